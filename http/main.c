/*
 * http/main.c -- parvisd: reads the configuration, applies pending
 * migrations, wires dav/, acl/ and db/ together (the only place that
 * includes db/), serves until SIGINT or SIGTERM, then stops cleanly.
 */
#include <libxml/parser.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "acl/acl.h"
#include "caldav/caldav.h"
#include "conf/conf.h"
#include "core/lcache.h"
#include "db/db.h"
#include "http/http.h"

static void
usage(FILE *f)
{
    fputs("Usage: parvisd [-c FILE] [--help] [--version]\n"
          "\n"
          "Parvis WebDAV server: serves the spaces stored in PostgreSQL.\n"
          "\n"
          "  -c, --config FILE  configuration file (see parvis.conf.sample)\n"
          "  -h, --help         show this help\n"
          "  -V, --version      show the version\n"
          "\n"
          "Environment: PARVIS_DSN (libpq conninfo), PARVIS_LISTEN\n"
          "(host:port) and PARVIS_CHUNK_CACHE_DIR (a private directory for\n"
          "the cache of large content chunks) override the file.\n"
          "PARVIS_LOG_LEVEL=debug logs more.\n",
          f);
}

/* libxml2 must never load anything from outside: refuse every entity. */
static xmlParserInputPtr
no_external_entities(const char *url, const char *id, xmlParserCtxtPtr ctx)
{
    (void)url;
    (void)id;
    (void)ctx;
    return NULL;
}

/* A cache of small entries (reads' targets, a few hundred bytes; Depth 0
 * answers, about a KiB): a slot for each 'per' bytes of its budget (from
 * 256 to 16,384 slots: a new stamp looks at each). */
static struct lcache *
small_cache_create(size_t budget, size_t per)
{
    size_t slots = budget / per;
    if (slots < 256)
        slots = 256;
    if (slots > 16384)
        slots = 16384;
    return lcache_create_slots(budget, slots);
}

/* The caches main() made for the server (lcache_destroy takes NULL). */
static void
caches_destroy(struct dav_server *dav)
{
    lcache_destroy(dav->lcache);
    lcache_destroy(dav->lookups);
    lcache_destroy(dav->answers);
}

int
main(int argc, char **argv)
{
    const char *conf_path = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
            i + 1 < argc) {
            conf_path = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "-V") == 0 ||
                   strcmp(argv[i], "--version") == 0) {
            puts("parvisd " PACKAGE_VERSION);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    const char *lvl = getenv("PARVIS_LOG_LEVEL");
    if (lvl != NULL && strcmp(lvl, "debug") == 0)
        log_set_level(LOG_DEBUG);

    struct conf conf;
    char err[512];
    if (!conf_load(&conf, conf_path, err, sizeof(err))) {
        fprintf(stderr, "parvisd: %s\n", err);
        return 1;
    }

    /* Schema first: a node never serves an older schema than its code. */
    struct db_conn *dc = db_conn_open(conf.dsn, err, sizeof(err));
    if (dc == NULL) {
        fprintf(stderr, "parvisd: %s\n", err);
        return 1;
    }
    int applied = 0;
    if (!db_migrate(dc, &applied, err, sizeof(err))) {
        fprintf(stderr, "parvisd: %s\n", err);
        db_conn_close(dc);
        return 1;
    }
    if (conf.anonymous_user != NULL)
        log_msg(LOG_WARN, NULL, NULL, "authentication is off: requests "
                "without credentials act as \"%s\"", conf.anonymous_user);
    if (applied > 0)
        log_msg(LOG_INFO, NULL, NULL, "applied %d migration(s)", applied);
    /* An acknowledged write must survive a crash of the database host. */
    if (!db_check_durability(dc, err, sizeof(err))) {
        if (!conf.allow_unsafe_database) {
            fprintf(stderr, "parvisd: %s; refusing to start (set "
                            "allow_unsafe_database = true to accept it)\n",
                    err);
            db_conn_close(dc);
            return 1;
        }
        log_msg(LOG_WARN, NULL, err, "the database may lose acknowledged "
                                     "writes");
    }
    db_conn_close(dc);

    /* Few malloc arenas for many connection threads: memory freed by one
     * request is reused by the next instead of piling up per thread. */
    mallopt(M_ARENA_MAX, 2);
    /* Blocks of 1 MiB and more (Argon2id's 19 MiB, large answers) are
     * mapped and unmapped each time.  Left to glibc, the threshold rises
     * to the largest block freed, and every later password check then
     * leaves its 19 MiB resident in an arena: a step in memory each time a
     * cached login expires under load. */
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
    xmlInitParser();
    xmlSetExternalEntityLoader(no_external_entities);

    struct dav_registry *reg = dav_registry_new();
    dav_register(reg);
    acl_register(reg);
    caldav_register(reg, db_caldav_ops());

    struct db_pool *pool = db_pool_create(conf.dsn, conf.db_pool_size);
    if (conf.chunk_cache_dir != NULL &&
        !db_pool_cache_dir(pool, conf.chunk_cache_dir,
                           (uint64_t)conf.chunk_cache_size << 20, err,
                           sizeof(err))) {
        fprintf(stderr, "parvisd: chunk_cache_dir: %s\n", err);
        db_pool_destroy(pool);
        return 1;
    }
    struct dav_server dav = {
        .conf = &conf,
        .max_xml_body = conf.max_xml_body,
        .max_xml_depth = conf.max_xml_depth,
        .max_xml_nodes = conf.max_xml_nodes,
        .max_props = conf.max_props_per_request,
        .max_propfind_members = conf.max_propfind_members,
        .realm = conf.realm,
        .lock_timeout_max = (int32_t)conf.lock_timeout_max,
        .max_resource_size = conf.max_resource_size,
        .max_instances = conf.max_instances,
        .max_attendees = conf.max_attendees,
        .show_apple_files = conf.show_apple_files,
        .trust_proxy_tls = conf.trust_proxy_tls,
        .anonymous_user = conf.anonymous_user,
        .reg = reg,
        .store = db_store_ops(),
        .store_ctx = pool,
        .lcache = lcache_create((size_t)conf.listing_cache_size << 20),
        /* An eighth more for the targets of reads (decision 0027), and
         * an eighth for the answers of PROPFIND Depth 0 (0029). */
        .lookups = small_cache_create((size_t)conf.listing_cache_size << 17,
                                      512),
        .answers = small_cache_create((size_t)conf.listing_cache_size << 17,
                                      1024),
    };

    /* Signals are taken by sigwait() below; block them in every thread. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Each connection takes two descriptors (libmicrohttpd's and the head
     * reaper's): allow as many as the system lets this process have. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    struct db_sealer *sealer =
        db_sealer_start(pool, conf.dsn, conf.audit_seal_interval);
    if (sealer == NULL) {
        log_msg(LOG_ERROR, NULL, NULL, "cannot start the audit sealer");
        db_pool_destroy(pool);
        caches_destroy(&dav);
        return 1;
    }
    struct http_server *hs = http_server_start(&dav);
    if (hs == NULL) {
        db_sealer_stop(sealer);
        db_pool_destroy(pool);
        caches_destroy(&dav);
        return 1;
    }
    const char *shown = strchr(conf.listen_host, ':') != NULL ? "[%s]" : "%s";
    char host[300];
    snprintf(host, sizeof(host), shown, conf.listen_host);
    printf("parvisd: listening on %s://%s:%u/\n",
           conf.tls_cert != NULL ? "https" : "http", host, conf.listen_port);
    fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);
    log_msg(LOG_INFO, NULL, NULL, "stopping on signal %d", sig);
    http_server_stop(hs);
    db_sealer_stop(sealer);
    db_pool_destroy(pool);
    caches_destroy(&dav);
    xmlCleanupParser();
    return 0;
}
