/*
 * tests/unit/fakes/fake_store.h -- an in-memory implementation of every
 * operation of struct dav_store_ops (dav/dav_store.h), for unit tests of
 * dav/ without PostgreSQL.
 *
 * The store is one process-wide instance (tests are single-threaded):
 * users, spaces and memberships set up by the test; resources keyed by
 * (space, path); dead properties; content chunks keyed by (space, SHA-256);
 * revisions with their chunk lists; locks (expiring on the wall clock, as
 * the database's now()); per-space quotas; app passwords and access
 * control entries; calendars; approval states and the trash; the change
 * log behind sync tokens (the triggers of db/migrations/0004); the audit
 * trail.  It follows db/pg_store.c's contract and its SQL: results are
 * copied into req->arena; lookup of a missing path is NOTFOUND; create is
 * EXISTS on a taken path.
 *
 * Time: rows are stamped from a logical clock (FAKE_STORE_EPOCH, then one
 * tick per change), except locks and guest expiry, which use the wall
 * clock as the database's now() does.  Sequences (ids, change log, trash
 * entries, audit rows) are part of the state and rolled back with it,
 * unlike PostgreSQL's: a retried transaction then leaves the same store as
 * a first attempt.
 *
 * Transactions: txn_begin takes a deep snapshot of the whole state,
 * txn_rollback restores it, txn_commit drops it.  A commit that fails
 * (injected) restores the snapshot too, as a database does when COMMIT
 * fails.  Writes outside a transaction and other contract breaches by the
 * caller are counted as violations (fake_store_violations()).
 *
 * Failure injection (STYLE.md §5, store torture): fake_store_fail_at(k)
 * makes the k-th store call from now on (counting every operation)
 * return DAV_STORE_ERROR.  txn_rollback is counted but cannot fail.
 */
#ifndef PARVIS_TESTS_FAKE_STORE_H
#define PARVIS_TESTS_FAKE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dav/dav_store.h"

/* The operations table; every member is set. */
const struct dav_store_ops *fake_store_ops(void);

/* Empty the store; clear the call counter, the injector and the
 * violation counter.  The clock restarts at FAKE_STORE_EPOCH. */
void fake_store_reset(void);
/* Release all memory (at the end of a test program). */
void fake_store_free(void);

#define FAKE_STORE_EPOCH ((time_t)1700000000)

/* Set-up helpers (outside any transaction; not counted as calls). */
int64_t fake_store_add_user(const char *name);
/* A space with its root collection (path ""); no trash folder nor
 * calendars (the trash op makes its folder on first use). */
int64_t fake_store_add_space(const char *slug, const char *title);
void fake_store_add_member(int64_t space_id, int64_t user_id,
                           const char *role);
/* A space's quota in bytes (-1: none, the default). */
void fake_store_set_quota(int64_t space_id, int64_t bytes);
/* Free space reported by quota_get (-1: unknown, the default). */
void fake_store_set_disk_free(int64_t bytes);
void fake_store_set_user_disabled(int64_t user_id, bool disabled);
/* Make a user a guest, expiring at 'expires' (wall clock; 0: never). */
void fake_store_set_guest(int64_t user_id, time_t expires);
/* A calendar at /.calendars/<name> of a space (the folder made if
 * needed), accepting 'components' ("VEVENT,VTODO"); returns its id. */
int64_t fake_store_add_calendar(int64_t space_id, const char *name,
                                const char *components);
/* An app password (by the SHA-256 of its secret); returns its id. */
int64_t fake_store_add_app_password(int64_t user_id,
                                    const unsigned char sha256[32]);
void fake_store_revoke_app_password(int64_t id);
/* An access control entry on the resource at (space, path), after those
 * it already carries; false if there is no such resource.  'user': the
 * principal is a user, else the members of space principal_id. */
bool fake_store_add_ace(int64_t space_id, const char *path, bool user,
                        int64_t principal_id, bool grant, unsigned privs);

/* Members per page of a paged listing (children_next); 3 by default, so
 * that listings of a few members already take several pages. */
void fake_store_set_list_page(size_t n);

/* Make the k-th call from now fail with DAV_STORE_ERROR (k = 0: never).
 * Resets the call counter. */
void fake_store_fail_at(unsigned long k);
/* The same with another code (e.g. DAV_STORE_RETRY). */
void fake_store_fail_at_rc(unsigned long k, enum dav_store_rc rc);
/* Calls since the last fail_at / reset. */
unsigned long fake_store_calls(void);
/* Did the injected failure happen? */
bool fake_store_failed(void);

/* A canonical text image of the whole state (resources, properties,
 * chunks, revisions, change log, audit trail, counters), malloc'd: equal
 * strings mean equal stores.  The audit rows are the lines starting with
 * "audit " (and nothing else starts so), so that a test may set them
 * apart. */
char *fake_store_dump(void);

bool fake_store_in_txn(void);
/* Contract breaches seen: writes outside a transaction, nested or
 * unmatched transaction calls, chunks whose bytes do not match their
 * hash, revisions whose chunks do not add up to their content. */
unsigned long fake_store_violations(void);

/* Inspection helpers (committed or not: the current state). */
size_t fake_store_chunk_count(void);
/* Number of revisions of the resource at (space, path); -1 if none. */
int fake_store_revision_count(int64_t space_id, const char *path);
bool fake_store_exists(int64_t space_id, const char *path);
/* Stored locks, expired ones included. */
size_t fake_store_lock_count(void);
/* Modification time of (space, path); -1 if absent. */
time_t fake_store_mtime(int64_t space_id, const char *path);
/* Where the trash entry at (space, path) came from; NULL if it is none
 * (or absent).  Valid until the next store change. */
const char *fake_store_trashed_from(int64_t space_id, const char *path);
/* Approval state of (space, path) ("draft"...); NULL if absent. */
const char *fake_store_approval_state(int64_t space_id, const char *path);
/* Audit rows matching action, path ("slug/path") and status; NULL and 0
 * match anything. */
size_t fake_store_audit_count(const char *action, const char *path,
                              int status);
/* Rows of the change log. */
size_t fake_store_change_count(void);

#endif
