/*
 * db/db_int.h -- declarations private to db/.
 */
#ifndef PARVIS_DB_INT_H
#define PARVIS_DB_INT_H

#include <libpq-fe.h>

#include "core/core.h"
#include "db/db.h"

struct db_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct db_migration db_migrations[];
extern const unsigned db_migration_count;

struct db_conn {
    PGconn *pg;
    bool prepared;
    /* Pool only: the server took no writes when the connection was
     * opened (a dsn without target_session_attrs=read-write may lead to
     * a standby). */
    bool opened_read_only;
    /* Pool only: a statement was refused as a write on a read-only server
     * (SQLSTATE 25006); close the connection when the lease ends. */
    bool reopen;
    /* Pool only: when the plans of its prepared statements were made
     * (CLOCK_MONOTONIC seconds), and how long they are kept before they
     * are made again; see PLAN_SECONDS in db/pg_store.c. */
    time_t planned_at;
    time_t plan_interval;
};

/* Map a failed result to a store code, logging SQLSTATE and message.
 * SQLSTATE 25006 (read-only transaction) also marks c to be reopened. */
enum dav_store_rc pg_result_rc(struct db_conn *c, const PGresult *r,
                               const char *what, const char *reqid);
/* A named statement, prepared on every fresh connection. */
struct pg_stmt {
    const char *name;
    const char *sql;
};
/* Prepare n statements; false (logged) on the first that fails. */
bool pg_prepare_stmts(PGconn *pg, const struct pg_stmt *stmts, size_t n);
/* Prepare every statement of the store on a fresh connection. */
bool pg_prepare_all(PGconn *pg);
bool pg_caldav_prepare_all(PGconn *pg);

/* A number macro as a string literal, for SQL text ("FETCH FORWARD "
 * PG_STR(PAGE)). */
#define PG_STR_(x) #x
#define PG_STR(x) PG_STR_(x)

struct dav_req;
/* Helpers shared by the store files (db/pg_store.c). */
PGresult *pg_run(struct dav_req *req, const char *stmt, int n,
                 const char *const *vals, const int *lens, int resfmt,
                 enum dav_store_rc *rc);
/* Run the write 'stmt' (its result unread) before the next statement of
 * the request's transaction, in the same round trip when it can wait;
 * its failure is then that statement's. */
enum dav_store_rc pg_run_first(struct dav_req *req, const char *stmt, int n,
                               const char *const *vals);
/* The same, the result owned by arena 'a' (a page's, reset before the
 * next). */
struct arena;
PGresult *pg_run_in(struct dav_req *req, struct arena *a, const char *stmt,
                    int n, const char *const *vals, const int *lens,
                    int resfmt, enum dav_store_rc *rc);
/* An SQL text (not prepared) with text parameters, owned by 'a'. */
PGresult *pg_run_sql(struct dav_req *req, struct arena *a, const char *sql,
                     int n, const char *const *vals, enum dav_store_rc *rc);
const char *pg_i64(struct dav_req *req, int64_t v);
int64_t pg_col_i64(const PGresult *r, int row, int col);
void pg_hex_decode32(const char *hex, unsigned char out[32]);
/* Appends the n bytes at s to the text[] literal being written into b, as
 * one quoted element (after a comma unless first). */
void pg_array_elem(struct buf *b, bool first, const char *s, size_t n);

/* The pool's audit sealer (db/sealer.c): set before the pool serves
 * requests, cleared after; poked after each commit that added audit rows. */
void db_pool_set_sealer(struct db_pool *p, struct db_sealer *s);
void db_sealer_poke(struct db_sealer *s);

#endif
