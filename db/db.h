/*
 * db/db.h -- PostgreSQL: the connection pool, migrations, the store
 * implementation of dav/dav_store.h, and administration for parvisctl.
 *
 * Threading: parvisd runs one thread per HTTP connection (http/server.c);
 * a request leases one PGconn from a bounded pool for the length of its
 * transaction, and for each chunk it streams outside one.  libpq calls
 * block the leasing thread only.
 */
#ifndef PARVIS_DB_H
#define PARVIS_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dav/dav_store.h"

struct db_pool;
struct db_conn;

/* Create a pool of at most 'size' connections (opened lazily).  Cannot
 * fail; connection errors surface on use.  Destroy with db_pool_destroy. */
struct db_pool *db_pool_create(const char *dsn, unsigned size);
void db_pool_destroy(struct db_pool *p);

/* Keep chunks larger than the in-memory cache takes in files of 'dir', at
 * most 'budget' bytes (db/disk_cache.h): written as uploads pass, read
 * before asking PostgreSQL.  Call before the pool serves requests; the
 * pool closes it.  False with a message in err if the directory cannot be
 * used. */
bool db_pool_cache_dir(struct db_pool *p, const char *dir, uint64_t budget,
                       char *err, size_t errlen);

/* The store operations over a pool; the pool is the server's store_ctx. */
const struct dav_store_ops *db_store_ops(void);
struct caldav_store_ops;
const struct caldav_store_ops *db_caldav_ops(void);

/* The thread that seals the audit chain on a connection of its own
 * (decision 0013): interval_ms after a commit of the pool's that added
 * audit rows, at start, and once a minute when idle for rows written
 * elsewhere; NULL if it cannot start.  Start it before the pool serves requests, stop it after;
 * stopping seals what was committed before, then joins it. */
struct db_sealer;
struct db_sealer *db_sealer_start(struct db_pool *pool, const char *dsn,
                                  unsigned interval_ms);
void db_sealer_stop(struct db_sealer *s);

/* ---- single connections (start-up and parvisctl) ---- */

/* Open a connection; NULL with a message in err on failure. */
struct db_conn *db_conn_open(const char *dsn, char *err, size_t errlen);
void db_conn_close(struct db_conn *c);

/* Apply pending migrations, each in its own transaction; *applied counts
 * them.  False with a message on failure. */
bool db_migrate(struct db_conn *c, int *applied, char *err, size_t errlen);

/*
 * Check durability settings (fsync, synchronous_commit, full_page_writes);
 * false with the offending setting named in err.
 */
bool db_check_durability(struct db_conn *c, char *err, size_t errlen);

/* ---- administration (parvisctl) ---- */

enum db_admin_rc {
    DB_ADMIN_OK = 0,
    DB_ADMIN_EXISTS,
    DB_ADMIN_NOTFOUND,
    DB_ADMIN_INVALID,
    DB_ADMIN_FAIL,
};

/* Called once per row with the row's columns as strings. */
typedef void (*db_row_fn)(void *ctx, int ncols, const char *const *cols);

enum db_admin_rc db_user_add(struct db_conn *c, const char *name,
                             const char *hash, const char *email,
                             const char *display_name, char *err,
                             size_t errlen);
enum db_admin_rc db_user_passwd(struct db_conn *c, const char *name,
                                const char *hash, char *err, size_t errlen);
enum db_admin_rc db_user_list(struct db_conn *c, db_row_fn fn, void *ctx,
                              char *err, size_t errlen);
enum db_admin_rc db_space_create(struct db_conn *c, const char *slug,
                                 const char *title, char *err, size_t errlen);
enum db_admin_rc db_space_list(struct db_conn *c, db_row_fn fn, void *ctx,
                               char *err, size_t errlen);
enum db_admin_rc db_member_add(struct db_conn *c, const char *space,
                               const char *user, const char *role, char *err,
                               size_t errlen);
/* size: bytes, or -1 to remove the quota. */
enum db_admin_rc db_space_quota(struct db_conn *c, const char *slug,
                                int64_t size, char *err, size_t errlen);
/* Unexpired locks (of one space, or all when space is NULL). */
enum db_admin_rc db_lock_list(struct db_conn *c, const char *space,
                              db_row_fn fn, void *ctx, char *err,
                              size_t errlen);
/* Remove a lock by token; NOTFOUND if there is none. */
enum db_admin_rc db_lock_break(struct db_conn *c, const char *token,
                               char *err, size_t errlen);
/* A guest: an account that cannot log in after 'expires' (YYYY-MM-DD or
 * an ISO timestamp). */
enum db_admin_rc db_guest_add(struct db_conn *c, const char *name,
                              const char *hash, const char *expires,
                              const char *email, const char *display_name,
                              char *err, size_t errlen);
enum db_admin_rc db_user_disable(struct db_conn *c, const char *name,
                                 bool disabled, char *err, size_t errlen);
/* Hand FROM's memberships (the higher role wins), locks and authorship of
 * resources over to TO. */
enum db_admin_rc db_user_transfer(struct db_conn *c, const char *from,
                                  const char *to, char *err, size_t errlen);
enum db_admin_rc db_space_archive(struct db_conn *c, const char *slug,
                                  char *err, size_t errlen);
enum db_admin_rc db_member_remove(struct db_conn *c, const char *space,
                                  const char *user, char *err, size_t errlen);
/* Access control entries: 'path' is "SPACE" or "SPACE/dir/file";
 * principal "user:NAME", "space:SLUG" or a plain user name. */
enum db_admin_rc db_acl_list(struct db_conn *c, const char *path,
                             db_row_fn fn, void *ctx, char *err,
                             size_t errlen);
enum db_admin_rc db_acl_set(struct db_conn *c, const char *path,
                            const char *principal, bool grant,
                            unsigned privs, char *err, size_t errlen);
enum db_admin_rc db_acl_revoke(struct db_conn *c, const char *path,
                               const char *principal, char *err,
                               size_t errlen);
enum db_admin_rc db_apppassword_add(struct db_conn *c, const char *user,
                                    const char *label,
                                    const unsigned char sha[32], char *err,
                                    size_t errlen);
enum db_admin_rc db_apppassword_list(struct db_conn *c, const char *user,
                                     db_row_fn fn, void *ctx, char *err,
                                     size_t errlen);
enum db_admin_rc db_apppassword_revoke(struct db_conn *c, const char *user,
                                       const char *id_or_label, char *err,
                                       size_t errlen);
/* The audit trail, filtered (NULL: no filter); dates as YYYY-MM-DD or
 * timestamps.  Rows: id, time, principal, client, action, path, status,
 * resource, revision, detail. */
struct db_audit_filter {
    const char *space;
    const char *user;
    const char *path;
    const char *since;
    const char *until;
};
enum db_admin_rc db_audit_list(struct db_conn *c,
                               const struct db_audit_filter *f, db_row_fn fn,
                               void *ctx, char *err, size_t errlen);
/* Chain the committed audit rows not chained yet (0008_audit_seal.sql);
 * *sealed counts them.  When 'wait' is false and another node is sealing,
 * returns at once with nothing done. */
enum db_admin_rc db_audit_seal(struct db_conn *c, bool wait, int64_t *sealed,
                               char *err, size_t errlen);
/* Seal, then check the whole chain; on a break *bad is the first altered
 * or missing row's id (or the id after the last row when rows are missing
 * at the end). */
enum db_admin_rc db_audit_verify(struct db_conn *c, int64_t *rows,
                                 int64_t *bad, char *err, size_t errlen);
/* Record an administrative action in the audit trail. */
enum db_admin_rc db_audit_admin(struct db_conn *c, const char *action,
                                const char *path, const char *detail,
                                char *err, size_t errlen);
/* Set a file's approval state as USER (NULL: nobody named).
 * DB_ADMIN_NOTFOUND, with err saying which, when USER or the file is
 * not there; DB_ADMIN_FAIL for a trash entry or a calendar object. */
enum db_admin_rc db_approval_set(struct db_conn *c, const char *path,
                                 const char *state, const char *comment,
                                 const char *as_user, char *err,
                                 size_t errlen);
/* Retention of a space: keep_revisions / keep_days <= 0 for none. */
enum db_admin_rc db_space_retention(struct db_conn *c, const char *slug,
                                    int keep_revisions, int keep_days,
                                    char *err, size_t errlen);
/* Apply retention and collect content no revision uses any more.
 * Prints nothing; *revisions and *chunks count what was removed. */
enum db_admin_rc db_purge(struct db_conn *c, int64_t *revisions,
                          int64_t *chunks, char *err, size_t errlen);
/* What a user owns, holds locked or has submitted: kind, path, detail. */
enum db_admin_rc db_handover_list(struct db_conn *c, const char *user,
                                  db_row_fn fn, void *ctx, char *err,
                                  size_t errlen);
enum db_admin_rc db_member_list(struct db_conn *c, const char *space,
                                db_row_fn fn, void *ctx, char *err,
                                size_t errlen);

#endif
