/*
 * conf/conf.h -- the configuration file and its environment overrides,
 * read once at start-up into an immutable struct conf.
 */
#ifndef PARVIS_CONF_H
#define PARVIS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf {
    char *listen_host;        /* "127.0.0.1" */
    unsigned listen_port;     /* 8080 */
    char *dsn;                /* libpq conninfo */
    unsigned db_pool_size;    /* PostgreSQL connections */
    unsigned max_connections; /* concurrent HTTP connections */
    unsigned connection_timeout; /* seconds */
    size_t max_header_block;  /* bytes: request line and header fields */
    size_t max_xml_body;      /* bytes */
    unsigned max_xml_depth;   /* element nesting of an XML body */
    unsigned max_xml_nodes;   /* nodes of an XML body */
    unsigned max_props_per_request; /* named by PROPFIND, PROPPATCH, REPORT */
    unsigned max_propfind_members; /* listed by one Depth 1 PROPFIND */
    char *access_log;         /* path, "-" or "off" */
    char *realm;              /* Basic realm */
    unsigned lock_timeout_max; /* seconds: longest lock granted */
    bool show_apple_files;    /* list other users' ._* and .DS_Store */
    char *tls_cert;           /* PEM certificate chain: serve HTTPS */
    char *tls_key;            /* PEM private key */
    bool trust_proxy_tls;     /* a reverse proxy terminates TLS */
    unsigned max_connections_per_client; /* 0: no limit */
    bool allow_unsafe_database; /* start even without fsync & co. */
    char *anonymous_user;     /* requests without credentials act as this
                                 user (benchmarks, closed networks) */
    /* CalDAV limits (RFC 4791 §5.2.5, §5.2.8, §5.2.9) */
    size_t max_resource_size; /* bytes of one calendar object */
    unsigned max_instances;   /* recurrence instances per object and per
                                 report */
    unsigned max_attendees;   /* ATTENDEEs per component */
    unsigned audit_seal_interval; /* ms from a commit to the sealing of its
                                     audit rows (0008_audit_seal.sql) */
    char *chunk_cache_dir;    /* large chunks cached in files; NULL: none */
    unsigned chunk_cache_size; /* MiB the files may take */
    unsigned listing_cache_size; /* MiB of Depth 1 listings kept; 0: none */
};

/*
 * Fill *c with defaults, then read 'path' (NULL: no file), then apply the
 * PARVIS_DSN, PARVIS_LISTEN and PARVIS_CHUNK_CACHE_DIR environment
 * overrides.  On failure writes a
 * message of at most errlen bytes to err and returns false.  Strings are
 * malloc'd and live for the process.
 */
bool conf_load(struct conf *c, const char *path, char *err, size_t errlen);

/* Parse "host:port"; false if malformed. */
bool conf_parse_listen(const char *s, char **host, unsigned *port);

#endif
