/*
 * db/admin.c -- single connections for start-up and parvisctl: schema
 * migrations, the durability check, and the administration commands.
 *
 * Migrations are the files db/migrations/NNNN_name.sql compiled into the
 * binary (db/embed.sh).  Each is applied in its own transaction together
 * with its row in schema_version; an advisory lock keeps two processes
 * from migrating at once.
 */
#include "db/db_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATE_LOCK_KEY "7370726976" /* any constant shared by all nodes */

static void
set_err(char *err, size_t errlen, const char *what, PGconn *pg,
        const PGresult *r)
{
    const char *msg = r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(pg);
    snprintf(err, errlen, "%s: %s", what, msg != NULL ? msg : "");
    size_t l = strlen(err);
    while (l > 0 && (err[l - 1] == '\n' || err[l - 1] == ' '))
        err[--l] = '\0';
}

struct db_conn *
db_conn_open(const char *dsn, char *err, size_t errlen)
{
    struct db_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        core_fatal("out of memory");
    c->pg = PQconnectdb(dsn);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        set_err(err, errlen, "cannot connect to the database", c->pg, NULL);
        PQfinish(c->pg);
        free(c);
        return NULL;
    }
    PGresult *r = PQexec(c->pg, "SET client_min_messages = warning");
    PQclear(r);
    return c;
}

void
db_conn_close(struct db_conn *c)
{
    if (c == NULL)
        return;
    PQfinish(c->pg);
    free(c);
}

static bool
exec_ok(PGconn *pg, const char *sql, const char *what, char *err,
        size_t errlen)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType s = PQresultStatus(r);
    bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok)
        set_err(err, errlen, what, pg, r);
    PQclear(r);
    return ok;
}

bool
db_migrate(struct db_conn *c, int *applied, char *err, size_t errlen)
{
    *applied = 0;
    if (!exec_ok(c->pg,
                 "CREATE TABLE IF NOT EXISTS schema_version ("
                 "version integer PRIMARY KEY, name text NOT NULL, "
                 "applied_at timestamptz NOT NULL DEFAULT now())",
                 "cannot create schema_version", err, errlen))
        return false;
    if (!exec_ok(c->pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")",
                 "cannot take the migration lock", err, errlen))
        return false;
    bool ok = true;
    for (unsigned i = 0; ok && i < db_migration_count; i++) {
        const struct db_migration *m = &db_migrations[i];
        char ver[16];
        snprintf(ver, sizeof(ver), "%d", m->version);
        const char *v[2] = { ver, m->name };
        PGresult *r = PQexecParams(
            c->pg, "SELECT 1 FROM schema_version WHERE version = $1", 1, NULL,
            v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            set_err(err, errlen, "cannot read schema_version", c->pg, r);
            PQclear(r);
            ok = false;
            break;
        }
        bool done = PQntuples(r) > 0;
        PQclear(r);
        if (done)
            continue;
        if (!exec_ok(c->pg, "BEGIN", "begin", err, errlen)) {
            ok = false;
            break;
        }
        r = PQexec(c->pg, m->sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK &&
            PQresultStatus(r) != PGRES_TUPLES_OK) {
            char what[128];
            snprintf(what, sizeof(what), "migration %s failed", m->name);
            set_err(err, errlen, what, c->pg, r);
            PQclear(r);
            exec_ok(c->pg, "ROLLBACK", "rollback", err, 0);
            ok = false;
            break;
        }
        PQclear(r);
        r = PQexecParams(c->pg,
                         "INSERT INTO schema_version (version, name) "
                         "VALUES ($1, $2)",
                         2, NULL, v, NULL, NULL, 0);
        bool ins = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ins)
            set_err(err, errlen, "cannot record migration", c->pg, r);
        PQclear(r);
        if (!ins || !exec_ok(c->pg, "COMMIT", "commit", err, errlen)) {
            exec_ok(c->pg, "ROLLBACK", "rollback", err, 0);
            ok = false;
            break;
        }
        (*applied)++;
    }
    char ignored[8];
    exec_ok(c->pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")",
            "unlock", ignored, sizeof(ignored));
    return ok;
}

bool
db_check_durability(struct db_conn *c, char *err, size_t errlen)
{
    static const char *settings[] = { "fsync", "synchronous_commit",
                                      "full_page_writes" };
    for (size_t i = 0; i < 3; i++) {
        const char *v[1] = { settings[i] };
        PGresult *r = PQexecParams(c->pg, "SELECT current_setting($1)", 1,
                                   NULL, v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            set_err(err, errlen, "cannot read settings", c->pg, r);
            PQclear(r);
            return false;
        }
        const char *val = PQgetvalue(r, 0, 0);
        bool off = strcmp(val, "off") == 0;
        if (off)
            snprintf(err, errlen, "the database runs with %s = off",
                     settings[i]);
        PQclear(r);
        if (off)
            return false;
    }
    return true;
}

/* ---- administration ---------------------------------------------------------- */

static enum db_admin_rc
admin_exec(struct db_conn *c, const char *sql, int n, const char *const *v,
           db_row_fn fn, void *ctx, int *rows, char *err, size_t errlen)
{
    PGresult *r = PQexecParams(c->pg, sql, n, NULL, v, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    enum db_admin_rc rc = DB_ADMIN_OK;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state != NULL && strcmp(state, "23505") == 0)
            rc = DB_ADMIN_EXISTS;
        else if (state != NULL && (strcmp(state, "23514") == 0 ||
                                   strcmp(state, "22P02") == 0))
            rc = DB_ADMIN_INVALID;
        else
            rc = DB_ADMIN_FAIL;
        set_err(err, errlen, "database error", c->pg, r);
        PQclear(r);
        return rc;
    }
    if (rows != NULL)
        *rows = s == PGRES_TUPLES_OK ? PQntuples(r)
                                    : (int)strtol(PQcmdTuples(r), NULL, 10);
    if (fn != NULL && s == PGRES_TUPLES_OK) {
        int nc = PQnfields(r);
        const char *cols[16];
        for (int i = 0; i < PQntuples(r); i++) {
            for (int k = 0; k < nc && k < 16; k++)
                cols[k] = PQgetisnull(r, i, k) ? "" : PQgetvalue(r, i, k);
            fn(ctx, nc, cols);
        }
    }
    PQclear(r);
    return rc;
}

enum db_admin_rc
db_user_add(struct db_conn *c, const char *name, const char *hash,
            const char *email, const char *display_name, char *err,
            size_t errlen)
{
    const char *v[4] = { name, hash, email, display_name };
    return admin_exec(c,
                      "INSERT INTO users (name, password_hash, email, "
                      "display_name) VALUES ($1, $2, $3, $4)",
                      4, v, NULL, NULL, NULL, err, errlen);
}

enum db_admin_rc
db_user_passwd(struct db_conn *c, const char *name, const char *hash,
               char *err, size_t errlen)
{
    const char *v[2] = { name, hash };
    int rows = 0;
    enum db_admin_rc rc = admin_exec(
        c, "UPDATE users SET password_hash = $2 WHERE name = $1", 2, v, NULL,
        NULL, &rows, err, errlen);
    if (rc == DB_ADMIN_OK && rows == 0) {
        snprintf(err, errlen, "no user \"%s\"", name);
        return DB_ADMIN_NOTFOUND;
    }
    return rc;
}

enum db_admin_rc
db_user_list(struct db_conn *c, db_row_fn fn, void *ctx, char *err,
             size_t errlen)
{
    return admin_exec(c,
                      "SELECT name, coalesce(display_name, ''), "
                      "coalesce(email, ''), CASE WHEN disabled THEN 'disabled' "
                      "ELSE 'active' END FROM users ORDER BY name",
                      0, NULL, fn, ctx, NULL, err, errlen);
}

enum db_admin_rc
db_space_create(struct db_conn *c, const char *slug, const char *title,
                char *err, size_t errlen)
{
    const char *v[2] = { slug, title };
    /* The space and its root collection, in one statement. */
    return admin_exec(c,
                      "WITH s AS (INSERT INTO spaces (slug, title) "
                      "VALUES ($1, $2) RETURNING id) "
                      "INSERT INTO resources (space_id, path, parent_path, "
                      "name, kind) SELECT id, '', NULL, $1, 0 FROM s",
                      2, v, NULL, NULL, NULL, err, errlen);
}

enum db_admin_rc
db_space_list(struct db_conn *c, db_row_fn fn, void *ctx, char *err,
              size_t errlen)
{
    return admin_exec(c,
                      "SELECT s.slug, s.title, (SELECT count(*) FROM members "
                      "m WHERE m.space_id = s.id)::text, CASE WHEN s.archived "
                      "THEN 'archived' ELSE 'active' END FROM spaces s "
                      "ORDER BY s.slug",
                      0, NULL, fn, ctx, NULL, err, errlen);
}

enum db_admin_rc
db_member_add(struct db_conn *c, const char *space, const char *user,
              const char *role, char *err, size_t errlen)
{
    const char *v[3] = { space, user, role };
    int rows = 0;
    enum db_admin_rc rc = admin_exec(
        c,
        "INSERT INTO members (space_id, user_id, role) "
        "SELECT s.id, u.id, $3 FROM spaces s, users u "
        "WHERE s.slug = $1 AND u.name = $2 "
        "ON CONFLICT (space_id, user_id) DO UPDATE SET role = excluded.role",
        3, v, NULL, NULL, &rows, err, errlen);
    if (rc == DB_ADMIN_OK && rows == 0) {
        snprintf(err, errlen, "no space \"%s\" or no user \"%s\"", space,
                 user);
        return DB_ADMIN_NOTFOUND;
    }
    return rc;
}

enum db_admin_rc
db_member_list(struct db_conn *c, const char *space, db_row_fn fn, void *ctx,
               char *err, size_t errlen)
{
    const char *v[1] = { space };
    int rows = 0;
    enum db_admin_rc rc = admin_exec(
        c,
        "SELECT u.name, m.role FROM members m JOIN spaces s ON s.id = "
        "m.space_id JOIN users u ON u.id = m.user_id WHERE s.slug = $1 "
        "ORDER BY u.name",
        1, v, fn, ctx, &rows, err, errlen);
    return rc;
}

enum db_admin_rc
db_space_quota(struct db_conn *c, const char *slug, int64_t size, char *err,
               size_t errlen)
{
    char q[32];
    snprintf(q, sizeof(q), "%lld", (long long)size);
    const char *v[2] = { slug, size >= 0 ? q : NULL };
    int rows = 0;
    enum db_admin_rc rc = admin_exec(
        c, "UPDATE spaces SET quota_bytes = $2::bigint WHERE slug = $1", 2, v,
        NULL, NULL, &rows, err, errlen);
    if (rc == DB_ADMIN_OK && rows == 0) {
        snprintf(err, errlen, "no space \"%s\"", slug);
        return DB_ADMIN_NOTFOUND;
    }
    return rc;
}

enum db_admin_rc
db_lock_list(struct db_conn *c, const char *space, db_row_fn fn, void *ctx,
             char *err, size_t errlen)
{
    const char *v[1] = { space };
    return admin_exec(
        c,
        "SELECT l.token, s.slug, CASE WHEN l.root_path = '' THEN '/' "
        "ELSE l.root_path END, CASE WHEN l.depth = -1 THEN 'infinity' "
        "ELSE '0' END, CASE WHEN l.exclusive THEN 'exclusive' "
        "ELSE 'shared' END, coalesce(u.name, ''), "
        "to_char(l.expires_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        "FROM locks l JOIN spaces s ON s.id = l.space_id "
        "LEFT JOIN users u ON u.id = l.principal_id "
        "WHERE l.expires_at > now() AND ($1::text IS NULL OR s.slug = $1) "
        "ORDER BY s.slug, l.root_path",
        1, v, fn, ctx, NULL, err, errlen);
}

enum db_admin_rc
db_lock_break(struct db_conn *c, const char *token, char *err, size_t errlen)
{
    const char *v[1] = { token };
    int rows = 0;
    enum db_admin_rc rc = admin_exec(c, "DELETE FROM locks WHERE token = $1",
                                     1, v, NULL, NULL, &rows, err, errlen);
    if (rc == DB_ADMIN_OK && rows == 0) {
        snprintf(err, errlen, "no lock \"%s\"", token);
        return DB_ADMIN_NOTFOUND;
    }
    return rc;
}
