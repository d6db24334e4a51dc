/*
 * tests/fuzz/harness.h -- a Parvis server for the fuzz targets that drive
 * requests through the real dispatcher (dav_req_create -> begin -> body ->
 * finish -> destroy), as tests/unit/dav/test_methods.c does: the registry
 * of dav/, acl/ and caldav/ (as http/main.c builds it), over the in-memory
 * store of tests/unit/fakes/ and the in-memory CalDAV index of
 * tests/fuzz/fake_caldav.c, with a stub authentication (the principal is
 * chosen by the target) and the real access checks of acl/.
 *
 * The store (fuzz_store_ready) holds:
 *   users alice, bob, carol, mgr; space "team" (alice and carol editors,
 *   bob reader, mgr manager), space "other" (bob editor);
 *   /dav/spaces/team/a.txt        two revisions, dead property Z:color
 *                                 (Z = urn:example:z)
 *   /dav/spaces/team/dir/         with b.txt, locked by carol (exclusive);
 *                                 an ACE denies bob DAV:read on it
 *   /dav/spaces/team/locked.txt   locked by alice (exclusive, depth 0)
 *   /dav/calendars/alice/team.work/   calendar (VEVENT, VTODO, VJOURNAL)
 *                                 with the objects listed in harness.c
 *
 * Every request is checked (fuzz_fail on a breach): a status 100-599, no
 * CR or LF in a response header, a well-formed XML body (namespaces
 * included) when the response is XML, no transaction left open, no
 * contract breach of the store, no arena left alive.
 *
 * With FUZZ_VERBOSE set in the environment, each request is logged to
 * stderr with its status and the start of its response body.
 */
#ifndef PARVIS_TESTS_FUZZ_HARNESS_H
#define PARVIS_TESTS_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "dav/dav.h"

#define FUZZ_SPACE "/dav/spaces/team"
#define FUZZ_CAL "/dav/calendars/alice/team.work"
#define FUZZ_HOST "example.org"

/* Build the server (once) and a fresh store. */
void fuzz_server_init(void);
/* Rebuild the store when a request of an earlier input may have changed
 * it (a method flagged DAV_M_WRITE); cheap otherwise.  Logs in alice. */
void fuzz_store_ready(void);
/* The principal of the next requests: "alice", "bob", "carol", "mgr" or
 * NULL (none: 401). */
void fuzz_login(const char *user);

/* Lock tokens of the store's two locks (alice's on locked.txt, carol's on
 * dir/b.txt), without angle brackets; the ETag of a.txt, with quotes. */
const char *fuzz_token_alice(void);
const char *fuzz_token_carol(void);
const char *fuzz_etag_a(void);

/* Request headers, a list ended by a NULL name (names case-insensitive). */
struct fuzz_hdr {
    const char *name;
    const char *value;
};

/*
 * Run one request with headers 'hdrs' (Host defaults to FUZZ_HOST) and
 * body 'body' (len 0: none), given to dav_req_body in pieces of 'piece'
 * bytes (0: one piece); check the response.  The caller reads the result
 * and calls fuzz_done().
 */
struct dav_req *fuzz_request(const char *method, const char *url,
                             const struct fuzz_hdr *hdrs, const void *body,
                             size_t len, size_t piece);
/* Destroy the request; check that it left no transaction nor arena. */
void fuzz_done(struct dav_req *req);

#endif
