/*
 * conf/conf.c -- reads "key = value" lines ('#' starts a comment), checks
 * each value, then applies environment overrides.  Unknown keys are an
 * error so that a typo never silently leaves a default in place.
 */
#include "conf/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL) {
        fputs("parvis: out of memory\n", stderr);
        abort();
    }
    return p;
}

bool
conf_parse_listen(const char *s, char **host, unsigned *port)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s)
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || p > 65535)
        return false;
    size_t hl = (size_t)(colon - s);
    const char *h = s;
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    char *hs = malloc(hl + 1);
    if (hs == NULL)
        abort();
    memcpy(hs, h, hl);
    hs[hl] = '\0';
    *host = hs;
    *port = (unsigned)p;
    return true;
}

static bool
parse_uint(const char *v, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n > max || v[0] == '-')
        return false;
    *out = n;
    return true;
}

static bool
parse_bool(const char *v, bool *out)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
        strcmp(v, "on") == 0) {
        *out = true;
    } else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 ||
               strcmp(v, "off") == 0) {
        *out = false;
    } else {
        return false;
    }
    return true;
}

/* The numeric keys: each a field of struct conf (unsigned or size_t) and
 * the range it accepts. */
struct num_key {
    const char *name;
    unsigned long min, max;
    size_t off, size;
};

#define NUM_KEY(field, lo, hi)                                                \
    { #field, lo, hi, offsetof(struct conf, field),                           \
      sizeof(((struct conf *)0)->field) }

static const struct num_key num_keys[] = {
    NUM_KEY(db_pool_size, 1, 1024),
    NUM_KEY(max_connections, 1, 100000),
    NUM_KEY(connection_timeout, 0, 86400),
    NUM_KEY(lock_timeout_max, 60, 7 * 86400),
    NUM_KEY(max_connections_per_client, 0, 100000),
    NUM_KEY(max_xml_body, 1024, 1UL << 30),
    NUM_KEY(max_header_block, 4096, 1024 * 1024),
    /* libxml2 refuses more than 256 levels without XML_PARSE_HUGE */
    NUM_KEY(max_xml_depth, 16, 256),
    NUM_KEY(max_xml_nodes, 100, 10000000),
    NUM_KEY(max_props_per_request, 16, 100000),
    NUM_KEY(max_propfind_members, 100, 10000000),
    NUM_KEY(max_resource_size, 1024, 64UL << 20),
    NUM_KEY(max_instances, 100, 1000000),
    NUM_KEY(max_attendees, 1, 100000),
    NUM_KEY(audit_seal_interval, 10, 60000),
    NUM_KEY(chunk_cache_size, 16, 1024 * 1024),
    NUM_KEY(listing_cache_size, 0, 4096),
};

/* Set k if it is a numeric key: 1 done, 0 not numeric, -1 out of range. */
static int
set_num_key(struct conf *c, const char *k, const char *v)
{
    for (size_t i = 0; i < sizeof(num_keys) / sizeof(num_keys[0]); i++) {
        const struct num_key *nk = &num_keys[i];
        if (strcmp(k, nk->name) != 0)
            continue;
        unsigned long n;
        if (!parse_uint(v, nk->max, &n) || n < nk->min)
            return -1;
        char *field = (char *)c + nk->off;
        if (nk->size == sizeof(unsigned)) {
            unsigned u = (unsigned)n;
            memcpy(field, &u, sizeof(u));
        } else {
            size_t z = (size_t)n;
            memcpy(field, &z, sizeof(z));
        }
        return 1;
    }
    return 0;
}

static bool
set_key(struct conf *c, const char *k, const char *v, char *err, size_t errlen)
{
    int num = set_num_key(c, k, v);
    if (num < 0)
        goto bad_number;
    if (num > 0)
        return true;
    if (strcmp(k, "listen") == 0) {
        free(c->listen_host);
        if (!conf_parse_listen(v, &c->listen_host, &c->listen_port)) {
            c->listen_host = xstrdup("127.0.0.1");
            snprintf(err, errlen, "listen: expected host:port, got \"%s\"", v);
            return false;
        }
    } else if (strcmp(k, "dsn") == 0) {
        free(c->dsn);
        c->dsn = xstrdup(v);
    } else if (strcmp(k, "access_log") == 0) {
        free(c->access_log);
        c->access_log = xstrdup(v);
    } else if (strcmp(k, "realm") == 0) {
        free(c->realm);
        c->realm = xstrdup(v);
    } else if (strcmp(k, "show_apple_files") == 0) {
        if (!parse_bool(v, &c->show_apple_files))
            goto bad_bool;
    } else if (strcmp(k, "trust_proxy_tls") == 0) {
        if (!parse_bool(v, &c->trust_proxy_tls))
            goto bad_bool;
    } else if (strcmp(k, "allow_unsafe_database") == 0) {
        if (!parse_bool(v, &c->allow_unsafe_database))
            goto bad_bool;
    } else if (strcmp(k, "anonymous_user") == 0) {
        free(c->anonymous_user);
        c->anonymous_user = v[0] != '\0' ? xstrdup(v) : NULL;
    } else if (strcmp(k, "chunk_cache_dir") == 0) {
        free(c->chunk_cache_dir);
        c->chunk_cache_dir = v[0] != '\0' ? xstrdup(v) : NULL;
    } else if (strcmp(k, "tls_cert") == 0) {
        free(c->tls_cert);
        c->tls_cert = v[0] != '\0' ? xstrdup(v) : NULL;
    } else if (strcmp(k, "tls_key") == 0) {
        free(c->tls_key);
        c->tls_key = v[0] != '\0' ? xstrdup(v) : NULL;
    } else {
        snprintf(err, errlen, "unknown key \"%s\"", k);
        return false;
    }
    return true;
bad_number:
    snprintf(err, errlen, "%s: invalid or out-of-range number \"%s\"", k, v);
    return false;
bad_bool:
    snprintf(err, errlen, "%s: expected true or false, got \"%s\"", k, v);
    return false;
}

bool
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->listen_host = xstrdup("127.0.0.1");
    c->listen_port = 8080;
    c->dsn = xstrdup("dbname=parvis");
    c->db_pool_size = 8;
    c->max_connections = 1024;
    c->max_connections_per_client = 512;
    c->connection_timeout = 60;
    c->max_header_block = 32 * 1024;
    c->max_xml_body = 1024 * 1024;
    c->max_xml_depth = 256;
    c->max_xml_nodes = 100000;
    c->max_props_per_request = 1000;
    c->max_propfind_members = 100000;
    c->access_log = xstrdup("-");
    c->realm = xstrdup("Parvis");
    c->lock_timeout_max = 3600;
    c->show_apple_files = false;
    c->max_resource_size = 1024 * 1024;
    c->max_instances = 10000;
    c->max_attendees = 1000;
    c->audit_seal_interval = 200;
    c->chunk_cache_size = 1024;
    c->listing_cache_size = 16;

    if (path != NULL) {
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
            return false;
        }
        char line[4096];
        int lineno = 0;
        bool ok = true;
        while (ok && fgets(line, sizeof(line), f) != NULL) {
            lineno++;
            char *hash = strchr(line, '#');
            if (hash != NULL)
                *hash = '\0';
            char *s = line;
            while (isspace((unsigned char)*s))
                s++;
            size_t l = strlen(s);
            while (l > 0 && isspace((unsigned char)s[l - 1]))
                s[--l] = '\0';
            if (l == 0)
                continue;
            char *eq = strchr(s, '=');
            if (eq == NULL) {
                snprintf(err, errlen, "%s:%d: expected key = value", path,
                         lineno);
                ok = false;
                break;
            }
            char *k = s;
            char *ke = eq;
            while (ke > k && isspace((unsigned char)ke[-1]))
                ke--;
            *ke = '\0';
            char *v = eq + 1;
            while (isspace((unsigned char)*v))
                v++;
            char msg[256];
            if (!set_key(c, k, v, msg, sizeof(msg))) {
                snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
                ok = false;
            }
        }
        fclose(f);
        if (!ok)
            return false;
    }

    if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
        snprintf(err, errlen, "tls_cert and tls_key go together");
        return false;
    }
    const char *env = getenv("PARVIS_DSN");
    if (env != NULL && env[0] != '\0') {
        free(c->dsn);
        c->dsn = xstrdup(env);
    }
    env = getenv("PARVIS_CHUNK_CACHE_DIR");
    if (env != NULL && env[0] != '\0') {
        free(c->chunk_cache_dir);
        c->chunk_cache_dir = xstrdup(env);
    }
    env = getenv("PARVIS_LISTEN");
    if (env != NULL && env[0] != '\0') {
        char msg[256];
        if (!set_key(c, "listen", env, msg, sizeof(msg))) {
            snprintf(err, errlen, "PARVIS_LISTEN: %s", msg);
            return false;
        }
    }
    return true;
}
