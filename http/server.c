/*
 * http/server.c -- the only code that sees libmicrohttpd: it turns MHD
 * callbacks into the dav_req lifecycle (dav/dav.h), serves /healthz and
 * /.well-known/, and writes the access log.
 *
 * Request bodies are handed to the DAV core piece by piece as MHD reads
 * them (PUT streams into storage); responses are either an arena buffer
 * or a pull callback that streams content out, of a known length (GET)
 * or not (a long multistatus, sent chunked).  MHD answers
 * "Expect: 100-continue" itself when the first call queues no response,
 * and decodes chunked request bodies.
 *
 * Limits kept here: the header block (max_header_block, 431 beyond it;
 * libmicrohttpd's per-connection memory is sized to hold it, and answers
 * 431 itself when a block does not fit) and the connections of one client
 * address (max_connections_per_client): counted here as libmicrohttpd
 * opens and closes them, a connection past the bound is answered 429 and
 * closed; libmicrohttpd refuses outright those past CLIENT_HEADROOM more,
 * so that a client holding connections open without a request cannot
 * take a thread each.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"

#define STREAM_BLOCK (256 * 1024)
#define CONN_MEMORY_MIN (64 * 1024)
#define CLIENT_HEADROOM 16     /* connections answered 429, per address */
#define CLIENT_BUCKETS 1024

/* Open connections of one client address. */
struct client_count {
    struct client_count *next;
    size_t len;
    unsigned char addr[16];    /* IPv4 or IPv6 address */
    unsigned n;
};

/* The socket context of a connection (MHD_OPTION_NOTIFY_CONNECTION).
 * Listed (under clients_lock) so that the head reaper can find the ones
 * whose request head takes too long. */
struct conn_state {
    struct client_count *client;
    bool over;                 /* opened past max_connections_per_client */
    int fd;                    /* our own descriptor of the socket: the
                                  reaper shuts it down, never a descriptor
                                  libmicrohttpd may have closed and reused */
    bool in_request;           /* a request head has arrived whole */
    bool cut;                  /* shut down by the reaper */
    struct timespec waiting;   /* since when a request head is awaited */
    struct conn_state *prev, *next;
};

struct http_server {
    struct MHD_Daemon *mhd;
    bool tls;
    char *tls_cert;   /* PEM, read at start-up */
    char *tls_key;
    const struct dav_server *dav;
    FILE *access_log;
    bool own_log;
    pthread_mutex_t log_lock;
    unsigned per_client;       /* max_connections_per_client; 0: none */
    pthread_mutex_t clients_lock;
    struct client_count *clients[CLIENT_BUCKETS];
    struct conn_state *conns;  /* open connections, under clients_lock */
    /* The head reaper: a request head must arrive whole within
     * connection_timeout of the connection awaiting it (libmicrohttpd's
     * timeout counts inactivity only, which a head sent a byte at a time
     * never reaches). */
    unsigned head_timeout;     /* seconds; 0: none */
    pthread_t reaper;
    bool reaper_running;
    pthread_mutex_t reaper_lock;
    pthread_cond_t reaper_cond;
    bool stopping;             /* under reaper_lock */
};

/* Per-request state of the adapter, owned by the dav_req's arena except
 * for this struct itself (malloc'd: it outlives the arena by a moment). */
struct http_ctx {
    struct dav_req *req;
    struct MHD_Connection *conn;
    const char *target_host;  /* authority of an absolute-form target */
    bool queued;
    bool discard;  /* an error is ready; the body is being discarded */
    struct timespec start;
    int status;
    uint64_t bytes;
};

/* The fields that may come on several lines, read as one list (RFC 9110
 * §5.3): the conditional ones. */
static const char *const list_fields[] = { "If", "If-Match",
                                           "If-None-Match" };

/* Fields of which a second line is refused (400): each is one value, and
 * two could be read differently by a proxy in front (RFC 9110 §5.3, RFC
 * 9112 §3.2 for Host, §6.3 for the framing ones). */
static const char *const single_fields[] = {
    "Host", "Content-Length", "Transfer-Encoding", "Destination",
    "Overwrite", "Depth", "Timeout", "Lock-Token", "Range", "If-Range",
    "If-Modified-Since", "If-Unmodified-Since", "Authorization",
    "Content-Type", "Expect" };

struct field_join {
    const char *name;
    const char *sep;   /* ", " for a list; " " for If (RFC 4918 §10.4) */
    struct buf *out;
    unsigned count;
};

static enum MHD_Result
join_field(void *cls, enum MHD_ValueKind kind, const char *key,
           const char *value)
{
    struct field_join *j = cls;
    (void)kind;
    if (strcasecmp(key, j->name) == 0) {
        buf_printf(j->out, "%s%s", j->count > 0 ? j->sep : "",
                   value != NULL ? value : "");
        j->count++;
    }
    return MHD_YES;
}

static const char *
header_lookup(void *ctx, const char *name)
{
    struct http_ctx *hc = ctx;
    if (hc->target_host != NULL && strcasecmp(name, "Host") == 0)
        return hc->target_host; /* RFC 9112 §3.2.2 */
    const char *v = MHD_lookup_connection_value(hc->conn, MHD_HEADER_KIND,
                                                name);
    if (v == NULL || hc->req == NULL)
        return v;
    for (size_t i = 0; i < sizeof(list_fields) / sizeof(*list_fields); i++) {
        if (strcasecmp(name, list_fields[i]) != 0)
            continue;
        struct buf b;
        buf_init(&b, hc->req->arena, strlen(v) + 1);
        /* If's lists follow one another without commas. */
        struct field_join j = { name, strcasecmp(name, "If") == 0 ? " " : ", ",
                                &b, 0 };
        MHD_get_connection_values(hc->conn, MHD_HEADER_KIND, join_field, &j);
        return j.count > 1 ? buf_cstr(&b) : v;
    }
    return v;
}

struct field_counts {
    unsigned single[sizeof(single_fields) / sizeof(*single_fields)];
    bool spaced_name;   /* whitespace before a field's colon */
};

static enum MHD_Result
count_field(void *cls, enum MHD_ValueKind kind, const char *key,
            const char *value)
{
    struct field_counts *c = cls;
    (void)kind;
    (void)value;
    if (key[strcspn(key, " \t")] != '\0')
        c->spaced_name = true;
    for (size_t i = 0; i < sizeof(single_fields) / sizeof(*single_fields);
         i++)
        if (strcasecmp(key, single_fields[i]) == 0)
            c->single[i]++;
    return MHD_YES;
}

/* A request whose framing or fields cannot be read one way only: the
 * status to answer (and close), with its text in *why; 0 if none. */
static unsigned
framing_error(struct MHD_Connection *conn, const char **why)
{
    struct field_counts c = { { 0 }, false };
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_field, &c);
    /* RFC 9112 §5.1: a MUST; a proxy could read such a field otherwise
     * (Transfer-Encoding, Content-Length) and frame the body apart. */
    if (c.spaced_name) {
        *why = "400 Bad Request: whitespace before a field's colon\n";
        return 400;
    }
    for (size_t i = 0; i < sizeof(single_fields) / sizeof(*single_fields);
         i++) {
        if (c.single[i] > 1) {
            *why = "400 Bad Request: a header field given twice\n";
            return 400;
        }
    }
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 "Content-Length");
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 "Transfer-Encoding");
    /* RFC 9112 §6.3: both at once is a smuggling risk. */
    if (cl != NULL && te != NULL) {
        *why = "400 Bad Request: Content-Length with Transfer-Encoding\n";
        return 400;
    }
    if (cl != NULL && (cl[0] == '\0' || strspn(cl, "0123456789") !=
                                            strlen(cl))) {
        *why = "400 Bad Request: Content-Length is not a number\n";
        return 400;
    }
    if (te != NULL) {
        struct str t = str_trim(str_c(te));
        if (str_case_eq_c(t, "chunked"))
            return 0;
        /* chunked last: a coding this server does not decode (§6.1,
         * 501); otherwise the body's end cannot be found (§6.3, 400). */
        const char *comma = memrchr(t.p, ',', t.len);
        struct str last = comma != NULL
            ? str_trim((struct str){ comma + 1,
                                     t.len - (size_t)(comma + 1 - t.p) })
            : t;
        if (str_case_eq_c(last, "chunked")) {
            *why = "501 Not Implemented: transfer coding other than "
                   "chunked\n";
            return 501;
        }
        *why = "400 Bad Request: the body's length cannot be found "
               "(Transfer-Encoding without chunked last)\n";
        return 400;
    }
    return 0;
}

static void
client_address(struct MHD_Connection *conn, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outlen, "-");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    socklen_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
    getnameinfo(sa, len, out, (socklen_t)outlen, NULL, 0, NI_NUMERICHOST);
}

static ssize_t
stream_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct http_ctx *hc = cls;
    struct dav_req *req = hc->req;
    bool unknown = req->stream_len == DAV_STREAM_LEN_UNKNOWN;
    if (!unknown && pos >= req->stream_len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (!unknown && max > req->stream_len - pos)
        max = (size_t)(req->stream_len - pos);
    long n = req->stream(req, pos, buf, max);
    if (n < 0) {
        log_msg(LOG_ERROR, req->id, NULL, "content read failed at %llu",
                (unsigned long long)pos);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    /* The end of a body of unknown length (the last chunk); a body of
     * known length shorter than promised is cut off. */
    if (n == 0)
        return unknown ? MHD_CONTENT_READER_END_OF_STREAM
                       : MHD_CONTENT_READER_END_WITH_ERROR;
    hc->bytes += (uint64_t)n;
    return n;
}

static enum MHD_Result
queue_dav_response(struct http_ctx *hc)
{
    struct dav_req *req = hc->req;
    struct MHD_Response *resp;
    if (req->stream != NULL && req->stream_len > 0) {
        /* Unknown length: chunked for HTTP/1.1; for HTTP/1.0 the body
         * ends with the connection, which libmicrohttpd then closes. */
        uint64_t len = req->stream_len == DAV_STREAM_LEN_UNKNOWN
                           ? MHD_SIZE_UNKNOWN
                           : req->stream_len;
        struct dav_stream_file *f = req->stream_file;
        resp = NULL;
        if (f != NULL && f->fd >= 0 && len != MHD_SIZE_UNKNOWN) {
            /* Sent from the file (sendfile unless over TLS), which
             * libmicrohttpd closes with the response. */
            resp = MHD_create_response_from_fd_at_offset64(len, f->fd,
                                                           f->off);
            if (resp != NULL) {
                f->fd = -1;
                /* What libmicrohttpd will send: no body for a HEAD. */
                hc->bytes = strcmp(req->method, "HEAD") == 0 ? 0 : len;
            }
        }
        /* libmicrohttpd allocates a block: no larger than the body. */
        size_t block = len < STREAM_BLOCK ? (size_t)len : STREAM_BLOCK;
        if (resp == NULL)
            resp = MHD_create_response_from_callback(len, block, stream_cb,
                                                     hc, NULL);
    } else {
        size_t len = req->resp_has_body ? req->resp_body.len : 0;
        static char empty[1];
        resp = MHD_create_response_from_buffer(
            len, len > 0 ? req->resp_body.p : empty, MHD_RESPMEM_PERSISTENT);
        /* What libmicrohttpd will send: no body for a HEAD. */
        hc->bytes = strcmp(req->method, "HEAD") == 0 ? 0 : len;
    }
    if (resp == NULL)
        return MHD_NO;
    for (struct dav_resp_header *h = req->resp_headers; h; h = h->next)
        MHD_add_response_header(resp, h->name, h->value);
    MHD_add_response_header(resp, "Server", "Parvis");
    hc->status = req->status;
    enum MHD_Result r = MHD_queue_response(hc->conn, (unsigned)req->status,
                                           resp);
    MHD_destroy_response(resp);
    hc->queued = true;
    return r;
}

static enum MHD_Result
queue_simple(struct http_ctx *hc, unsigned status, const char *ctype,
             const char *body, const char *location)
{
    char *copy = strdup(body);
    if (copy == NULL)
        return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(copy), copy, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL)
        return MHD_NO;
    if (ctype != NULL)
        MHD_add_response_header(resp, "Content-Type", ctype);
    if (location != NULL)
        MHD_add_response_header(resp, "Location", location);
    MHD_add_response_header(resp, "Server", "Parvis");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    hc->status = (int)status;
    hc->bytes = strlen(body);
    enum MHD_Result r = MHD_queue_response(hc->conn, status, resp);
    MHD_destroy_response(resp);
    hc->queued = true;
    return r;
}

/* Answer 'status' with the static text 'body' (and a Retry-After header
 * unless NULL) and close the connection. */
static enum MHD_Result
queue_close(struct http_ctx *hc, unsigned status, const char *body,
            const char *retry_after)
{
    size_t len = strlen(body);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Connection", "close");
    MHD_add_response_header(resp, "Content-Type", "text/plain");
    MHD_add_response_header(resp, "Server", "Parvis");
    if (retry_after != NULL)
        MHD_add_response_header(resp, "Retry-After", retry_after);
    hc->status = (int)status;
    hc->bytes = len;
    enum MHD_Result r = MHD_queue_response(hc->conn, status, resp);
    MHD_destroy_response(resp);
    hc->queued = true;
    return r;
}

static enum MHD_Result
add_field_size(void *cls, enum MHD_ValueKind kind, const char *key,
               size_t key_size, const char *value, size_t value_size)
{
    size_t *n = cls;
    (void)key;
    if (kind == MHD_HEADER_KIND) /* "Name: value" CRLF */
        *n += key_size + 2 + value_size + 2;
    else /* '?' or '&', "key" or "key=value" */
        *n += 1 + key_size + (value != NULL ? 1 + value_size : 0);
    return MHD_YES;
}

/* The size of the request line and header fields as a client writes them
 * ("Name: value" lines): what max_header_block bounds. */
static size_t
header_block_size(struct MHD_Connection *conn, const char *method,
                  const char *url, const char *version)
{
    size_t n = strlen(method) + 1 + strlen(url) + 1 + strlen(version) + 2;
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND,
                                add_field_size, &n);
    return n + 2;
}

/* The address bytes of a connection's client; false if unknown. */
static bool
client_key(struct MHD_Connection *conn, unsigned char *out, size_t *len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return false;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(out, &in->sin_addr, 4);
        *len = 4;
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(out, &in6->sin6_addr, 16);
        *len = 16;
        return true;
    }
    return false;
}

static size_t
client_bucket(const unsigned char *addr, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ addr[i]) * 16777619u;
    return h % CLIENT_BUCKETS;
}

/* Count connections per client address as they open and close. */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
    struct http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        unsigned char addr[16];
        size_t len;
        *socket_context = NULL;
        if (!client_key(conn, addr, &len))
            return;
        struct conn_state *cs = calloc(1, sizeof(*cs));
        if (cs == NULL)
            core_fatal("out of memory");
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        cs->fd = ci != NULL ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
        clock_gettime(CLOCK_MONOTONIC, &cs->waiting);
        size_t b = client_bucket(addr, len);
        pthread_mutex_lock(&s->clients_lock);
        cs->next = s->conns;
        if (s->conns != NULL)
            s->conns->prev = cs;
        s->conns = cs;
        struct client_count *c = s->clients[b];
        while (c != NULL && (c->len != len || memcmp(c->addr, addr, len) != 0))
            c = c->next;
        if (c == NULL) {
            c = calloc(1, sizeof(*c));
            if (c == NULL)
                core_fatal("out of memory");
            memcpy(c->addr, addr, len);
            c->len = len;
            c->next = s->clients[b];
            s->clients[b] = c;
        }
        c->n++;
        cs->client = c;
        cs->over = c->n > s->per_client;
        pthread_mutex_unlock(&s->clients_lock);
        *socket_context = cs;
        return;
    }
    struct conn_state *cs = *socket_context;
    if (cs == NULL)
        return;
    struct client_count *c = cs->client;
    size_t b = client_bucket(c->addr, c->len);
    pthread_mutex_lock(&s->clients_lock);
    if (cs->prev != NULL)
        cs->prev->next = cs->next;
    else
        s->conns = cs->next;
    if (cs->next != NULL)
        cs->next->prev = cs->prev;
    if (cs->fd >= 0)
        close(cs->fd);
    if (--c->n == 0) {
        struct client_count **p = &s->clients[b];
        while (*p != c)
            p = &(*p)->next;
        *p = c->next;
        free(c);
    }
    pthread_mutex_unlock(&s->clients_lock);
    free(cs);
    *socket_context = NULL;
}

/* The connection has a request head whole (in_request), or awaits the
 * next one from now. */
static void
conn_mark(struct http_server *s, struct MHD_Connection *conn, bool in_request)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_state *cs = ci != NULL ? ci->socket_context : NULL;
    if (cs == NULL)
        return;
    pthread_mutex_lock(&s->clients_lock);
    cs->in_request = in_request;
    if (!in_request)
        clock_gettime(CLOCK_MONOTONIC, &cs->waiting);
    pthread_mutex_unlock(&s->clients_lock);
}

/* Shut down, once a second, the connections whose request head has not
 * arrived whole within head_timeout: libmicrohttpd then sees the socket
 * end and closes the connection as usual. */
static void *
head_reaper(void *arg)
{
    struct http_server *s = arg;
    pthread_mutex_lock(&s->reaper_lock);
    while (!s->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&s->reaper_cond, &s->reaper_lock, &until);
        if (s->stopping)
            break;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        pthread_mutex_lock(&s->clients_lock);
        for (struct conn_state *cs = s->conns; cs != NULL; cs = cs->next) {
            if (cs->in_request || cs->cut || cs->fd < 0 ||
                now.tv_sec - cs->waiting.tv_sec <= (time_t)s->head_timeout)
                continue;
            shutdown(cs->fd, SHUT_RDWR);
            cs->cut = true;
        }
        pthread_mutex_unlock(&s->clients_lock);
    }
    pthread_mutex_unlock(&s->reaper_lock);
    return NULL;
}

/* Was the connection opened past max_connections_per_client? */
static bool
client_over_limit(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    const struct conn_state *cs = ci != NULL ? ci->socket_context : NULL;
    return cs != NULL && cs->over;
}

static bool
request_has_body(struct MHD_Connection *conn)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 "Content-Length");
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 "Transfer-Encoding");
    if (te != NULL)
        return true;
    return cl != NULL && strcmp(cl, "0") != 0;
}

static bool
is_dav_route(const char *url)
{
    return strcmp(url, "/healthz") != 0 &&
           strcmp(url, "/.well-known/caldav") != 0 &&
           strcmp(url, "/.well-known/carddav") != 0;
}

static enum MHD_Result
begin_dav(struct http_ctx *hc, struct MHD_Connection *conn,
          size_t *upload_data_size)
{
    bool has_body = request_has_body(conn);
    if (!dav_req_begin(hc->req, has_body))
        return MHD_YES;
    /* An early answer is sent now when no body follows or the client
     * waits for "100 Continue"; otherwise the body is read and discarded
     * first (libmicrohttpd drops the connection when a response is queued
     * while a body is still in flight). */
    const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "Expect");
    if (!has_body ||
        (expect != NULL && strcasecmp(expect, "100-continue") == 0)) {
        *upload_data_size = 0;
        return queue_dav_response(hc);
    }
    hc->discard = true;
    return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    struct http_server *s = cls;
    struct http_ctx *hc = *con_cls;
    (void)version;

    if (hc == NULL) {
        hc = calloc(1, sizeof(*hc));
        if (hc == NULL)
            return MHD_NO;
        hc->conn = conn;
        clock_gettime(CLOCK_MONOTONIC, &hc->start);
        *con_cls = hc;
        conn_mark(s, conn, true);
        char addr[64];
        client_address(conn, addr, sizeof(addr));
        /* RFC 9112 §3.2.2: an absolute-form target names the host; the
         * path is what follows its authority. */
        const char *authority = NULL, *path = url;
        size_t alen = 0;
        if (strncasecmp(url, "http://", 7) == 0 ||
            strncasecmp(url, "https://", 8) == 0) {
            authority = strchr(url, '/') + 2;
            path = strchr(authority, '/');
            alen = path != NULL ? (size_t)(path - authority)
                                : strlen(authority);
            if (path == NULL)
                path = "/";
        }
        hc->req = dav_req_create(s->dav, method, path, addr, header_lookup,
                                 hc);
        if (authority != NULL)
            hc->target_host = arena_strndup(hc->req->arena, authority, alen);
        hc->req->secure = s->tls;
        /* RFC 6585 §4; the client may retry once it has closed some. */
        if (s->per_client > 0 && client_over_limit(conn)) {
            *upload_data_size = 0;
            return queue_close(hc, 429, "429 Too Many Requests: too many "
                                        "connections from this address\n",
                               "1");
        }
        /* RFC 6585 §5 */
        if (header_block_size(conn, method, url, version) >
            s->dav->conf->max_header_block) {
            *upload_data_size = 0;
            return queue_close(hc, 431, "431 Request Header Fields Too "
                                        "Large\n",
                               NULL);
        }
        const char *why;
        unsigned bad = framing_error(conn, &why);
        if (bad != 0) {
            *upload_data_size = 0;
            return queue_close(hc, bad, why, NULL);
        }
        /* Routes outside the DAV namespace are answered at the last call;
         * DAV requests begin now, before libmicrohttpd sends
         * "100 Continue", so that a refused upload is never sent. */
        if (is_dav_route(hc->req->url))
            return begin_dav(hc, conn, upload_data_size);
        return MHD_YES;
    }
    struct dav_req *req = hc->req;

    if (hc->queued) {
        *upload_data_size = 0; /* a refused body is discarded */
        return MHD_YES;
    }

    /* Routes outside the DAV namespace. */
    if (strcmp(req->url, "/healthz") == 0) {
        if (*upload_data_size > 0) {
            *upload_data_size = 0;
            return MHD_YES;
        }
        enum dav_store_rc rc = s->dav->store->ping(req);
        return rc == DAV_STORE_OK
                   ? queue_simple(hc, 200, "text/plain", "ok\n", NULL)
                   : queue_simple(hc, 503, "text/plain",
                                  "database unavailable\n", NULL);
    }
    if (strcmp(req->url, "/.well-known/caldav") == 0 ||
        strcmp(req->url, "/.well-known/carddav") == 0) {
        if (*upload_data_size > 0) {
            *upload_data_size = 0;
            return MHD_YES;
        }
        /* RFC 6764 §5: redirect to the context path. */
        return queue_simple(hc, 301, "text/plain", "/dav/\n", "/dav/");
    }

    if (hc->discard) {
        if (*upload_data_size > 0) {
            *upload_data_size = 0;
            return MHD_YES;
        }
        return queue_dav_response(hc);
    }
    if (*upload_data_size > 0) {
        dav_req_body(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    dav_req_finish(req);
    return queue_dav_response(hc);
}


static void
access_log_write(struct http_server *s, struct http_ctx *hc,
                 enum MHD_RequestTerminationCode toe)
{
    if (s->access_log == NULL || hc->req == NULL)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double ms = (double)(now.tv_sec - hc->start.tv_sec) * 1000.0 +
                (double)(now.tv_nsec - hc->start.tv_nsec) / 1e6;
    char ts[21];
    rfc3339_format(time(NULL), ts);
    struct dav_req *req = hc->req;
    /* Controls and spaces written %XX: no line may be forged, its fields
     * shifted or a terminal driven. */
    const char *method = str_log_clip(req->arena, req->method, 32, false);
    const char *url = str_log_clip(req->arena, req->url, 1024, false);
    pthread_mutex_lock(&s->log_lock);
    fprintf(s->access_log, "%s %s %s %s %s %d %llu %.1f %s%s\n", ts,
            req->client_addr, req->log_user != NULL ? req->log_user : "-",
            method, url, hc->status, (unsigned long long)hc->bytes,
            ms, req->id,
            toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    fflush(s->access_log);
    pthread_mutex_unlock(&s->log_lock);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct http_ctx *hc = *con_cls;
    conn_mark(s, conn, false);
    if (hc == NULL)
        return;
    access_log_write(s, hc, toe);
    /* (Not an answer kept in the listing cache, which the arena does not
     * own.) */
    bool big = hc->req != NULL && hc->req->resp_body.arena != NULL &&
               hc->req->resp_body.len > 1024 * 1024;
    /* Rolls back an open transaction: a client that went away mid-upload
     * leaves nothing behind. */
    dav_req_destroy(hc->req);
    /* A large answer (a long listing) was built in memory: give it back
     * to the system rather than keep it in this thread's malloc arena. */
    if (big)
        malloc_trim(0);
    free(hc);
    *con_cls = NULL;
}

/* Keep the request target raw: dav/ decodes it exactly once and refuses
 * what must be refused (an encoded '/', NUL, "%2e%2e"). */
static size_t
keep_url_raw(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t l = strlen(msg);
    while (l > 0 && msg[l - 1] == '\n')
        msg[--l] = '\0';
    log_msg(LOG_DEBUG, NULL, NULL, "http: %s", msg);
}

/* A whole file, NUL-terminated, malloc'd; NULL on failure. */
static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 8192, len = 0;
    char *p = malloc(cap);
    while (p != NULL) {
        size_t n = fread(p + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (len + 1 == cap) {
            char *q = realloc(p, cap * 2);
            if (q == NULL) {
                free(p);
                p = NULL;
                break;
            }
            p = q;
            cap *= 2;
        }
    }
    fclose(f);
    if (p != NULL)
        p[len] = '\0';
    return p;
}

/* Free what http_server_start allocated (the daemon already stopped). */
static void
http_server_stop_partial(struct http_server *s)
{
    if (s->reaper_running) {
        pthread_mutex_lock(&s->reaper_lock);
        s->stopping = true;
        pthread_cond_signal(&s->reaper_cond);
        pthread_mutex_unlock(&s->reaper_lock);
        pthread_join(s->reaper, NULL);
    }
    pthread_mutex_destroy(&s->reaper_lock);
    pthread_cond_destroy(&s->reaper_cond);
    if (s->own_log)
        fclose(s->access_log);
    pthread_mutex_destroy(&s->log_lock);
    pthread_mutex_destroy(&s->clients_lock);
    free(s->tls_cert);
    free(s->tls_key);
    free(s);
}

struct http_server *
http_server_start(const struct dav_server *dav)
{
    const struct conf *c = dav->conf;
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char port[16];
    snprintf(port, sizeof(port), "%u", c->listen_port);
    int gai = getaddrinfo(c->listen_host, port, &hints, &ai);
    if (gai != 0 || ai == NULL) {
        log_msg(LOG_ERROR, NULL, gai_strerror(gai),
                "cannot resolve listen address %s", c->listen_host);
        return NULL;
    }
    struct http_server *s = calloc(1, sizeof(*s));
    if (s == NULL)
        core_fatal("out of memory");
    s->dav = dav;
    pthread_mutex_init(&s->log_lock, NULL);
    pthread_mutex_init(&s->clients_lock, NULL);
    pthread_mutex_init(&s->reaper_lock, NULL);
    pthread_cond_init(&s->reaper_cond, NULL);
    s->head_timeout = c->connection_timeout;
    s->per_client = c->max_connections_per_client;
    /* Past the bound, CLIENT_HEADROOM more are answered 429; libmicrohttpd
     * refuses the next ones (0: no limit at all). */
    unsigned hard_per_client =
        s->per_client > 0 ? s->per_client + CLIENT_HEADROOM : 0;
    if (strcmp(c->access_log, "-") == 0) {
        s->access_log = stdout;
    } else if (strcmp(c->access_log, "off") != 0 && c->access_log[0] != '\0') {
        s->access_log = fopen(c->access_log, "a");
        s->own_log = s->access_log != NULL;
        if (s->access_log == NULL)
            log_msg(LOG_WARN, NULL, c->access_log,
                    "cannot open the access log");
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (c->tls_cert != NULL) {
        s->tls_cert = read_file(c->tls_cert);
        s->tls_key = read_file(c->tls_key);
        if (s->tls_cert == NULL || s->tls_key == NULL) {
            log_msg(LOG_ERROR, NULL, c->tls_cert,
                    "cannot read the TLS certificate or key");
            freeaddrinfo(ai);
            http_server_stop_partial(s);
            return NULL;
        }
        flags |= MHD_USE_TLS;
        s->tls = true;
    }
    /* A connection's memory holds its header block, with libmicrohttpd's
     * record of each field, then the body as it is read: twice the
     * largest block allowed (some 800 short fields fit beside it), and at
     * least 64 KiB of read buffer for uploads.  libmicrohttpd zeroes all
     * of it after every request, so it is kept no larger than that
     * (decision 0019). */
    size_t conn_memory = 2 * c->max_header_block;
    if (conn_memory < CONN_MEMORY_MIN)
        conn_memory = CONN_MEMORY_MIN;
    /* The same options in both modes; the certificate and key only with
     * MHD_USE_TLS, which libmicrohttpd requires. */
    if (s->tls)
        s->mhd = MHD_start_daemon(
            flags, (uint16_t)c->listen_port, NULL, NULL, on_request, s,
            MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)c->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)c->connection_timeout,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, conn_memory,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
            MHD_OPTION_UNESCAPE_CALLBACK, keep_url_raw, NULL,
            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
            MHD_OPTION_PER_IP_CONNECTION_LIMIT, hard_per_client,
            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
            MHD_OPTION_THREAD_STACK_SIZE, (size_t)(1024 * 1024),
            MHD_OPTION_HTTPS_MEM_CERT, s->tls_cert, MHD_OPTION_HTTPS_MEM_KEY,
            s->tls_key, MHD_OPTION_END);
    else
        s->mhd = MHD_start_daemon(
            flags, (uint16_t)c->listen_port, NULL, NULL, on_request, s,
            MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)c->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)c->connection_timeout,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, conn_memory,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
            MHD_OPTION_UNESCAPE_CALLBACK, keep_url_raw, NULL,
            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
            MHD_OPTION_PER_IP_CONNECTION_LIMIT, hard_per_client,
            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
            MHD_OPTION_THREAD_STACK_SIZE, (size_t)(1024 * 1024),
            MHD_OPTION_END);
    freeaddrinfo(ai);
    if (s->mhd == NULL) {
        log_msg(LOG_ERROR, NULL, NULL, "cannot listen on %s:%u",
                c->listen_host, c->listen_port);
        http_server_stop_partial(s);
        return NULL;
    }
    if (s->head_timeout > 0 &&
        pthread_create(&s->reaper, NULL, head_reaper, s) == 0)
        s->reaper_running = true;
    return s;
}

void
http_server_stop(struct http_server *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->mhd);
    http_server_stop_partial(s);
}
