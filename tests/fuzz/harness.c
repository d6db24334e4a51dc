/*
 * tests/fuzz/harness.c -- the server of the dispatcher-driven fuzz targets
 * (see harness.h).
 */
#include "tests/fuzz/harness.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl/acl.h"
#include "acl/acl_int.h"
#include "caldav/caldav.h"
#include "conf/conf.h"
#include "tests/fuzz/fake_caldav.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fakes/fake_store.h"

static struct conf conf;
static struct dav_registry *reg;
static struct dav_server srv;
static bool ready;       /* the store is as populate() made it */
static bool maybe_dirty; /* a request that may write ran since */
static char *baseline;   /* state_key() after populate() */
static unsigned long baseline_cal_writes;
static bool initialised;
static bool verbose;     /* FUZZ_VERBOSE set: log every request */

static struct {
    const char *name;
    int64_t id;
} users[4] = { { "alice", 0 }, { "bob", 0 }, { "carol", 0 }, { "mgr", 0 } };
static int64_t team, other;
static int64_t current_uid;
static const char *current_name;

static char token_alice[128], token_carol[128], etag_a[128];

/* ---- calendar objects of /dav/calendars/alice/team.work/ ----------------- */

#define VTZ_PARIS                                                           \
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n"                              \
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"          \
    "TZNAME:CEST\r\nDTSTART:19810329T020000\r\n"                            \
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"            \
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"          \
    "TZNAME:CET\r\nDTSTART:19961027T030000\r\n"                             \
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"           \
    "END:VTIMEZONE\r\n"
#define VCAL_BEGIN                                                          \
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Parvis fuzz//EN\r\n"
#define VCAL_END "END:VCALENDAR\r\n"

static const struct {
    const char *name;
    const char *ics;
} cal_objects[] = {
    { "weekly.ics",
      VCAL_BEGIN VTZ_PARIS
      "BEGIN:VEVENT\r\nUID:weekly@fuzz\r\nDTSTAMP:20240101T000000Z\r\n"
      "DTSTART;TZID=Europe/Paris:20240108T100000\r\n"
      "DTEND;TZID=Europe/Paris:20240108T110000\r\n"
      "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20241230T090000Z\r\n"
      "EXDATE;TZID=Europe/Paris:20240115T100000\r\n"
      "SUMMARY:Weekly review\r\nLOCATION:Room 1\\, east wing\r\n"
      "CATEGORIES:WORK,REVIEW\r\n"
      "ATTENDEE;CN=\"Bob Builder\";PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:"
      "mailto:bob@example.org\r\n"
      "ORGANIZER;CN=Alice:mailto:alice@example.org\r\n"
      "X-PARVIS-COST;CURRENCY=EUR:12.50\r\n"
      "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\n"
      "TRIGGER:-PT15M\r\nEND:VALARM\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:weekly@fuzz\r\nDTSTAMP:20240101T000000Z\r\n"
      "RECURRENCE-ID;TZID=Europe/Paris:20240122T100000\r\n"
      "DTSTART;TZID=Europe/Paris:20240122T140000\r\n"
      "DTEND;TZID=Europe/Paris:20240122T150000\r\n"
      "SUMMARY:Weekly review (moved)\r\nSTATUS:TENTATIVE\r\n"
      "END:VEVENT\r\n" VCAL_END },
    { "allday.ics",
      VCAL_BEGIN
      "BEGIN:VEVENT\r\nUID:allday@fuzz\r\nDTSTAMP:20240101T000000Z\r\n"
      "DTSTART;VALUE=DATE:20240214\r\n"
      "RDATE;VALUE=DATE:20240301,20240401\r\n"
      "SUMMARY:Caf\xc3\xa9 d\xc3\xad" "a \xc3\x84\xc3\x96\xc3\x9c\r\n"
      "DESCRIPTION:Line one\\nLine two\r\nTRANSP:TRANSPARENT\r\n"
      "END:VEVENT\r\n" VCAL_END },
    { "daily.ics",
      VCAL_BEGIN
      "BEGIN:VEVENT\r\nUID:daily@fuzz\r\nDTSTAMP:20240101T000000Z\r\n"
      "DTSTART;TZID=W. Europe Standard Time:20231201T080000\r\n"
      "DURATION:PT30M\r\nRRULE:FREQ=DAILY;INTERVAL=2\r\n"
      "SUMMARY:Stand-up\r\nSTATUS:CONFIRMED\r\n"
      "END:VEVENT\r\n" VCAL_END },
    { "floating.ics",
      VCAL_BEGIN
      "BEGIN:VEVENT\r\nUID:floating@fuzz\r\nDTSTAMP:20240101T000000Z\r\n"
      "DTSTART:20240310T090000\r\nDTEND:20240310T093000\r\n"
      "RRULE:FREQ=HOURLY;COUNT=5\r\nSUMMARY:Floating\r\n"
      "END:VEVENT\r\n" VCAL_END },
    { "todo.ics",
      VCAL_BEGIN
      "BEGIN:VTODO\r\nUID:todo@fuzz\r\nDTSTAMP:20240101T000000Z\r\n"
      "CREATED:20240102T080000Z\r\nDUE:20240120T170000Z\r\n"
      "COMPLETED:20240118T120000Z\r\nSTATUS:COMPLETED\r\n"
      "PERCENT-COMPLETE:100\r\nPRIORITY:1\r\nSUMMARY:File the report\r\n"
      "END:VTODO\r\n" VCAL_END },
    { "todo-open.ics",
      VCAL_BEGIN
      "BEGIN:VTODO\r\nUID:todo-open@fuzz\r\nDTSTAMP:20240101T000000Z\r\n"
      "SUMMARY:Someday\r\nX-APPLE-SORT-ORDER:3\r\n"
      "END:VTODO\r\n" VCAL_END },
    { "journal.ics",
      VCAL_BEGIN
      "BEGIN:VJOURNAL\r\nUID:journal@fuzz\r\nDTSTAMP:20240101T000000Z\r\n"
      "DTSTART;VALUE=DATE:20240105\r\nSUMMARY:Notes\r\n"
      "DESCRIPTION:Met the team.\r\n"
      "END:VJOURNAL\r\n" VCAL_END },
};

/* ---- hooks --------------------------------------------------------------- */

/* As http/main.c installs it: no external entity is ever loaded. */
static xmlParserInputPtr
no_external_entities(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
    (void)url;
    (void)id;
    (void)ctxt;
    return NULL;
}

static struct dav_err *
stub_authn(struct dav_req *req)
{
    if (current_uid == 0)
        return dav_err_new(req, 401, "no credentials");
    req->principal = arena_alloc(req->arena, sizeof(*req->principal));
    req->principal->id = current_uid;
    req->principal->name = arena_strdup(req->arena, current_name);
    return NULL;
}

void
fuzz_login(const char *user)
{
    current_uid = 0;
    current_name = NULL;
    for (size_t i = 0; user != NULL && i < 4; i++)
        if (strcmp(users[i].name, user) == 0) {
            current_uid = users[i].id;
            current_name = users[i].name;
        }
}

/* ---- requests ------------------------------------------------------------ */

/* The headers of the request in progress (one at a time). */
static const struct fuzz_hdr *req_hdrs;

static const char *
hdr_get(void *ctx, const char *name)
{
    (void)ctx;
    for (const struct fuzz_hdr *p = req_hdrs; p != NULL && p->name != NULL;
         p++)
        if (strcasecmp(p->name, name) == 0)
            return p->value;
    if (strcasecmp(name, "Host") == 0)
        return FUZZ_HOST;
    return NULL;
}

static const char *
resp_header(const struct dav_req *req, const char *name)
{
    for (const struct dav_resp_header *h = req->resp_headers; h != NULL;
         h = h->next)
        if (strcasecmp(h->name, name) == 0)
            return h->value;
    return NULL;
}

/* An XML response must be well-formed, namespaces included. */
static void
check_xml(const struct dav_req *req)
{
    const char *body = req->resp_body.p;
    size_t len = req->resp_body.len;
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt == NULL)
        abort();
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, body, (int)len, "response.xml",
                                      NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR |
                                          XML_PARSE_NOWARNING |
                                          XML_PARSE_HUGE);
    bool ok = doc != NULL && ctxt->wellFormed && ctxt->nsWellFormed;
    const xmlError *e = xmlCtxtGetLastError(ctxt);
    /* Known: calendar-data carries the object's bytes, which need not be
     * characters XML allows. */
    if (!ok && fuzz_known("caldata-chars") && e != NULL &&
        (e->code == XML_ERR_INVALID_CHAR ||
         e->code == XML_ERR_INVALID_ENCODING) &&
        memmem(body, len, "<C:calendar-data>", 17) != NULL)
        ok = true;
    if (!ok)
        fuzz_fail("%s %s: %d response is not well-formed XML (%s):\n%.*s",
                  req->method, req->url, req->status,
                  e != NULL && e->message != NULL ? e->message : "?",
                  (int)(len > 4000 ? 4000 : len), body);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
}

static void
check_response(const struct dav_req *req)
{
    if (!req->responded)
        fuzz_fail("%s %s: no response", req->method, req->url);
    if (req->status < 100 || req->status > 599)
        fuzz_fail("%s %s: status %d", req->method, req->url, req->status);
    if (req->in_txn)
        fuzz_fail("%s %s: transaction still open after the response",
                  req->method, req->url);
    for (const struct dav_resp_header *h = req->resp_headers; h != NULL;
         h = h->next)
        if (h->name == NULL || h->value == NULL ||
            strpbrk(h->name, "\r\n:") != NULL ||
            strpbrk(h->value, "\r\n") != NULL)
            fuzz_fail("%s %s: bad response header %s: %s", req->method,
                      req->url, h->name ? h->name : "(null)",
                      h->value ? h->value : "(null)");
    const char *ct = resp_header(req, "Content-Type");
    if (req->stream == NULL && req->resp_body.len > 0 && ct != NULL &&
        strstr(ct, "xml") != NULL)
        check_xml(req);
}

static long arenas_before;

/* A streamed multistatus (length unknown) is read to its end into
 * resp_body, as the HTTP adapter sends it; its transaction ends there. */
static void
drain_multistatus(struct dav_req *req)
{
    if (req->stream == NULL || req->stream_len != DAV_STREAM_LEN_UNKNOWN)
        return;
    buf_init(&req->resp_body, req->arena, 4096);
    for (;;) {
        char piece[4096];
        long n = req->stream(req, req->resp_body.len, piece, sizeof(piece));
        if (n < 0)
            fuzz_fail("%s %s: the multistatus broke off", req->method,
                      req->url);
        if (n == 0)
            break;
        buf_append(&req->resp_body, piece, (size_t)n);
    }
    req->stream = NULL;
    req->resp_has_body = true;
}

struct dav_req *
fuzz_request(const char *method, const char *url, const struct fuzz_hdr *hdrs,
             const void *body, size_t len, size_t piece)
{
    req_hdrs = hdrs;
    arenas_before = arena_live_count();
    struct dav_req *req = dav_req_create(&srv, method, url, "192.0.2.1",
                                         hdr_get, NULL);
    if (!dav_req_begin(req, len > 0)) {
        const char *p = body;
        for (size_t off = 0; off < len;) {
            size_t n = len - off;
            if (piece > 0 && n > piece)
                n = piece;
            dav_req_body(req, p + off, n);
            off += n;
        }
        dav_req_finish(req);
    }
    /* A method that may write leaves a store to compare. */
    if (req->mdef == NULL || (req->mdef->flags & DAV_M_WRITE) != 0)
        maybe_dirty = true;
    drain_multistatus(req);
    check_response(req);
    if (verbose)
        fprintf(stderr, "fuzz: %s %s -> %d\n%.*s\n", method, url,
                req->status,
                req->stream == NULL ? (int)(req->resp_body.len > 2000
                                                ? 2000
                                                : req->resp_body.len)
                                    : 0,
                req->resp_body.p != NULL ? req->resp_body.p : "");
    return req;
}

void
fuzz_done(struct dav_req *req)
{
    dav_req_destroy(req);
    req_hdrs = NULL;
    if (fake_store_in_txn())
        fuzz_fail("a transaction was left open");
    if (fake_store_violations() != 0)
        fuzz_fail("%lu store contract breaches", fake_store_violations());
    if (arena_live_count() != arenas_before)
        fuzz_fail("%ld arenas left alive",
                  arena_live_count() - arenas_before);
}

/* ---- the store ------------------------------------------------------------- */

/* The store's state without the audit trail (malloc'd). */
static char *
state_key(void)
{
    char *d = fake_store_dump();
    char *w = d;
    for (const char *r = d; *r != '\0';) {
        const char *nl = strchr(r, '\n');
        size_t n = nl != NULL ? (size_t)(nl - r) + 1 : strlen(r);
        if (strncmp(r, "audit ", 6) != 0) {
            memmove(w, r, n);
            w += n;
        }
        r += n;
    }
    *w = '\0';
    return d;
}

/* Audit rows tolerated before the store is rebuilt anyway. */
#define MAX_AUDIT_ROWS 64

/* A set-up request that must succeed; copies a response header. */
static void
setup(const char *method, const char *url, const struct fuzz_hdr *hdrs,
      const char *body, const char *want_hdr, char *out, size_t outlen)
{
    struct dav_req *req = fuzz_request(method, url, hdrs, body,
                                       body != NULL ? strlen(body) : 0, 0);
    if (req->status < 200 || req->status > 299)
        fuzz_fail("set-up %s %s: %d %.*s", method, url, req->status,
                  (int)req->resp_body.len,
                  req->resp_body.p != NULL ? req->resp_body.p : "");
    if (want_hdr != NULL) {
        const char *v = resp_header(req, want_hdr);
        if (v == NULL)
            fuzz_fail("set-up %s %s: no %s", method, url, want_hdr);
        snprintf(out, outlen, "%s", v);
    }
    fuzz_done(req);
}

/* "<urn:uuid:...>" -> "urn:uuid:..." */
static void
strip_brackets(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
        memmove(s, s + 1, n - 2);
        s[n - 2] = '\0';
    }
}

#define LOCKINFO                                                           \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"                           \
    "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/>"             \
    "</D:lockscope><D:locktype><D:write/></D:locktype>"                    \
    "<D:owner><D:href>%s</D:href></D:owner></D:lockinfo>"

static void
populate(void)
{
    fake_store_reset();
    fake_caldav_reset();
    for (size_t i = 0; i < 4; i++)
        users[i].id = fake_store_add_user(users[i].name);
    team = fake_store_add_space("team", "Team space");
    other = fake_store_add_space("other", "Other space");
    fake_store_add_member(team, users[0].id, "editor");
    fake_store_add_member(team, users[1].id, "reader");
    fake_store_add_member(team, users[2].id, "editor");
    fake_store_add_member(team, users[3].id, "manager");
    fake_store_add_member(other, users[1].id, "editor");
    fake_store_add_calendar(team, "work", "VEVENT,VTODO,VJOURNAL");

    const struct fuzz_hdr text[] = { { "Content-Type", "text/plain" },
                                     { NULL, NULL } };
    const struct fuzz_hdr cal[] = {
        { "Content-Type", "text/calendar; charset=utf-8" }, { NULL, NULL }
    };
    const struct fuzz_hdr depth0[] = { { "Depth", "0" },
                                       { "Timeout", "Second-600" },
                                       { NULL, NULL } };
    char body[512];

    fuzz_login("alice");
    setup("PUT", FUZZ_SPACE "/a.txt", text, "hello, fuzz\n", NULL, NULL, 0);
    setup("PUT", FUZZ_SPACE "/a.txt", text, "hello again, fuzz\n", "ETag",
          etag_a, sizeof(etag_a));
    setup("MKCOL", FUZZ_SPACE "/dir", NULL, NULL, NULL, NULL, 0);
    setup("PUT", FUZZ_SPACE "/dir/b.txt", text, "b\n", NULL, NULL, 0);
    setup("PUT", FUZZ_SPACE "/locked.txt", text, "locked\n", NULL, NULL, 0);
    setup("PROPPATCH", FUZZ_SPACE "/a.txt", NULL,
          "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
          "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:example:z\">"
          "<D:set><D:prop><Z:color>red</Z:color></D:prop></D:set>"
          "</D:propertyupdate>",
          NULL, NULL, 0);
    snprintf(body, sizeof(body), LOCKINFO, "alice");
    setup("LOCK", FUZZ_SPACE "/locked.txt", depth0, body, "Lock-Token",
          token_alice, sizeof(token_alice));
    for (size_t i = 0; i < sizeof(cal_objects) / sizeof(cal_objects[0]); i++) {
        char url[256];
        snprintf(url, sizeof(url), FUZZ_CAL "/%s", cal_objects[i].name);
        setup("PUT", url, cal, cal_objects[i].ics, NULL, NULL, 0);
    }
    fuzz_login("carol");
    snprintf(body, sizeof(body), LOCKINFO, "carol");
    setup("LOCK", FUZZ_SPACE "/dir/b.txt", depth0, body, "Lock-Token",
          token_carol, sizeof(token_carol));
    strip_brackets(token_alice);
    strip_brackets(token_carol);
    if (!fake_store_add_ace(team, "/dir", true, users[1].id, false,
                            DAV_PRIV_READ))
        fuzz_fail("set-up: no /dir for the ACE");
    fuzz_login("alice");
    free(baseline);
    baseline = state_key();
    baseline_cal_writes = fake_caldav_writes();
    ready = true;
    maybe_dirty = false;
}

/*
 * After a request that may have written, the store is rebuilt unless it
 * is unchanged but for its audit trail (most fuzzed writes fail): the
 * audit rows, read only by the approvals view, may pile up to
 * MAX_AUDIT_ROWS.
 */
void
fuzz_store_ready(void)
{
    if (ready && maybe_dirty) {
        char *key = state_key();
        if (strcmp(key, baseline) != 0 || fake_caldav_writes() != baseline_cal_writes ||
            fake_store_audit_count(NULL, NULL, 0) > MAX_AUDIT_ROWS)
            ready = false;
        free(key);
        maybe_dirty = false;
    }
    if (!ready)
        populate();
    fuzz_login("alice");
}

const char *
fuzz_token_alice(void)
{
    return token_alice;
}

const char *
fuzz_token_carol(void)
{
    return token_carol;
}

const char *
fuzz_etag_a(void)
{
    return etag_a;
}

void
fuzz_server_init(void)
{
    if (initialised)
        return;
    initialised = true;
    char err[256];
    unsetenv("PARVIS_DSN");
    unsetenv("PARVIS_LISTEN");
    if (!conf_load(&conf, NULL, err, sizeof(err)))
        fuzz_fail("conf_load: %s", err);
    log_set_level(LOG_ERROR + 1);
    xmlInitParser();
    xmlSetExternalEntityLoader(no_external_entities);
    reg = dav_registry_new();
    dav_register(reg);
    acl_register(reg);
    caldav_register(reg, fake_caldav_ops());
    /* acl/'s access decisions, with a stub in place of Basic logins. */
    dav_registry_set_auth(reg, stub_authn, acl_authz);
    srv.conf = &conf;
    srv.max_xml_body = conf.max_xml_body;
    srv.max_xml_depth = conf.max_xml_depth;
    srv.max_xml_nodes = conf.max_xml_nodes;
    srv.max_props = conf.max_props_per_request;
    srv.max_propfind_members = conf.max_propfind_members;
    srv.lock_timeout_max = (int32_t)conf.lock_timeout_max;
    srv.max_resource_size = conf.max_resource_size;
    srv.max_instances = conf.max_instances;
    srv.max_attendees = conf.max_attendees;
    srv.show_apple_files = conf.show_apple_files;
    srv.realm = conf.realm;
    srv.reg = reg;
    srv.store = fake_store_ops();
    srv.store_ctx = NULL;
    populate();
    verbose = getenv("FUZZ_VERBOSE") != NULL;
}
