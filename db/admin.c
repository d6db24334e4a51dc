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

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    /* The space and its root collection, in one statement, then its
     * agenda and action sheets. */
    char ignored[8];
    enum db_admin_rc rc = admin_exec(c, "BEGIN", 0, NULL, NULL, NULL, NULL,
                                     err, errlen);
    if (rc != DB_ADMIN_OK)
        return rc;
    rc = admin_exec(
        c,
        "WITH s AS (INSERT INTO spaces (slug, title) "
        "VALUES ($1, $2) RETURNING id) "
        "INSERT INTO resources (space_id, parent_id, name, kind) "
        "SELECT id, NULL, $1, 0 FROM s",
        2, v, NULL, NULL, NULL, err, errlen);
    if (rc == DB_ADMIN_OK)
        rc = admin_exec(c,
                        "SELECT parvis_space_calendars(id), "
                        "parvis_space_trash(id) FROM spaces WHERE slug = $1",
                        1, v, NULL, NULL, NULL, err, errlen);
    if (rc == DB_ADMIN_OK)
        rc = admin_exec(c, "COMMIT", 0, NULL, NULL, NULL, NULL, err, errlen);
    else
        admin_exec(c, "ROLLBACK", 0, NULL, NULL, NULL, NULL, ignored,
                   sizeof(ignored));
    return rc;
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

/* Rows affected must be 1+, else NOTFOUND with 'what' in err. */
static enum db_admin_rc
admin_exec_one(struct db_conn *c, const char *sql, int n,
               const char *const *v, const char *what, char *err,
               size_t errlen)
{
    int rows = 0;
    enum db_admin_rc rc = admin_exec(c, sql, n, v, NULL, NULL, &rows, err,
                                     errlen);
    if (rc == DB_ADMIN_OK && rows == 0) {
        snprintf(err, errlen, "%s", what);
        return DB_ADMIN_NOTFOUND;
    }
    return rc;
}

enum db_admin_rc
db_guest_add(struct db_conn *c, const char *name, const char *hash,
             const char *expires, const char *email, const char *display_name,
             char *err, size_t errlen)
{
    const char *v[5] = { name, hash, expires, email, display_name };
    return admin_exec(c,
                      "INSERT INTO users (name, password_hash, kind, "
                      "expires_at, email, display_name) "
                      "VALUES ($1, $2, 'guest', $3::timestamptz, $4, $5)",
                      5, v, NULL, NULL, NULL, err, errlen);
}

enum db_admin_rc
db_user_disable(struct db_conn *c, const char *name, bool disabled,
                char *err, size_t errlen)
{
    const char *v[2] = { name, disabled ? "true" : "false" };
    char what[160];
    snprintf(what, sizeof(what), "no user \"%s\"", name);
    return admin_exec_one(c,
                          "UPDATE users SET disabled = $2::boolean "
                          "WHERE name = $1",
                          2, v, what, err, errlen);
}

enum db_admin_rc
db_user_transfer(struct db_conn *c, const char *from, const char *to,
                 char *err, size_t errlen)
{
    const char *v[2] = { from, to };
    char what[200];
    snprintf(what, sizeof(what), "no user \"%s\" or \"%s\"", from, to);
    /* One statement: memberships (keeping the stronger role), locks,
     * authorship of resources, and the access entries naming FROM. */
    return admin_exec_one(
        c,
        "WITH f AS (SELECT id FROM users WHERE name = $1), "
        "t AS (SELECT id FROM users WHERE name = $2), "
        "ok AS (SELECT f.id AS fid, t.id AS tid FROM f, t), "
        "rank(role, r) AS (VALUES ('published', 0), ('reader', 1), "
        "('editor', 2), ('validator', 3), ('manager', 4)), "
        "m AS (INSERT INTO members (space_id, user_id, role) "
        "SELECT mm.space_id, ok.tid, mm.role FROM members mm, ok "
        "WHERE mm.user_id = ok.fid ON CONFLICT (space_id, user_id) DO UPDATE "
        "SET role = CASE WHEN (SELECT r FROM rank WHERE role = excluded.role)"
        " > (SELECT r FROM rank WHERE role = members.role) "
        "THEN excluded.role ELSE members.role END RETURNING 1), "
        "l AS (UPDATE locks SET principal_id = ok.tid FROM ok "
        "WHERE principal_id = ok.fid RETURNING 1), "
        "a AS (UPDATE aces SET principal_id = ok.tid FROM ok "
        "WHERE principal_kind = 'user' AND principal_id = ok.fid "
        "RETURNING 1), "
        "r AS (UPDATE resources SET created_by = CASE WHEN created_by = "
        "ok.fid THEN ok.tid ELSE created_by END, submitted_by = CASE WHEN "
        "submitted_by = ok.fid THEN ok.tid ELSE submitted_by END FROM ok "
        "WHERE created_by = ok.fid OR submitted_by = ok.fid RETURNING 1), "
        "gone AS (DELETE FROM members mm USING ok WHERE mm.user_id = ok.fid "
        "RETURNING 1) "
        "SELECT 1 FROM ok",
        2, v, what, err, errlen);
}

enum db_admin_rc
db_space_archive(struct db_conn *c, const char *slug, char *err,
                 size_t errlen)
{
    const char *v[1] = { slug };
    char what[160];
    snprintf(what, sizeof(what), "no space \"%s\"", slug);
    return admin_exec_one(c,
                          "UPDATE spaces SET archived = true WHERE slug = $1",
                          1, v, what, err, errlen);
}

enum db_admin_rc
db_member_remove(struct db_conn *c, const char *space, const char *user,
                 char *err, size_t errlen)
{
    const char *v[2] = { space, user };
    char what[200];
    snprintf(what, sizeof(what), "\"%s\" is not a member of \"%s\"", user,
             space);
    return admin_exec_one(c,
                          "DELETE FROM members m USING spaces s, users u "
                          "WHERE m.space_id = s.id AND m.user_id = u.id AND "
                          "s.slug = $1 AND u.name = $2",
                          2, v, what, err, errlen);
}

/* "s1/dir/a b" -> slug "s1", path "/dir/a b"; "s1" -> path "". */
static void
split_space_path(const char *in, char *slug, size_t slen, char *path,
                 size_t plen)
{
    const char *slash = strchr(in, '/');
    size_t n = slash != NULL ? (size_t)(slash - in) : strlen(in);
    snprintf(slug, slen, "%.*s", (int)n, in);
    const char *rest = slash != NULL ? slash : "";
    size_t rl = strlen(rest);
    while (rl > 0 && rest[rl - 1] == '/')
        rl--;
    snprintf(path, plen, "%.*s", (int)rl, rest);
}

/* SQL selecting (space_id, resource id) of path, and the principal. */
#define ACL_TARGET                                                         \
    "tgt AS (SELECT r.space_id, r.id FROM resources r JOIN spaces s ON "   \
    "s.id = r.space_id WHERE s.slug = $1 AND "                             \
    "r.id = parvis_resolve(s.id, $2)), "                                   \
    "who AS (SELECT 'user' AS kind, id FROM users WHERE name = "           \
    "regexp_replace($3, '^user:', '') AND $3 !~ '^space:' UNION ALL "      \
    "SELECT 'space', id FROM spaces WHERE $3 ~ '^space:' AND "             \
    "slug = substr($3, 7)) "

enum db_admin_rc
db_acl_list(struct db_conn *c, const char *path, db_row_fn fn, void *ctx,
            char *err, size_t errlen)
{
    char slug[128], p[2048];
    split_space_path(path, slug, sizeof(slug), p, sizeof(p));
    const char *v[2] = { slug, p };
    return admin_exec(
        c,
        "SELECT s.slug || CASE WHEN rp.path = '' THEN '/' ELSE rp.path END, "
        "a.principal_kind || ':' || coalesce(u.name, ps.slug, '?'), "
        "CASE WHEN a.is_grant THEN 'grant' ELSE 'deny' END, "
        "a.privileges::text FROM aces a "
        "JOIN resources r ON r.id = a.resource_id "
        "CROSS JOIN LATERAL (SELECT parvis_path(r.id) AS path) rp "
        "JOIN spaces s ON s.id = a.space_id "
        "LEFT JOIN users u ON a.principal_kind = 'user' AND "
        "u.id = a.principal_id "
        "LEFT JOIN spaces ps ON a.principal_kind = 'space' AND "
        "ps.id = a.principal_id "
        "WHERE s.slug = $1 AND (rp.path = $2 OR $2 LIKE rp.path || '/%' OR "
        "rp.path = '') "
        "ORDER BY rp.path, a.position, a.id",
        2, v, fn, ctx, NULL, err, errlen);
}

enum db_admin_rc
db_acl_set(struct db_conn *c, const char *path, const char *principal,
           bool grant, unsigned privs, char *err, size_t errlen)
{
    char slug[128], p[2048], pv[16];
    split_space_path(path, slug, sizeof(slug), p, sizeof(p));
    snprintf(pv, sizeof(pv), "%u", privs);
    const char *v[5] = { slug, p, principal, grant ? "true" : "false", pv };
    char what[300];
    snprintf(what, sizeof(what), "no resource \"%s\" or no principal \"%s\"",
             path, principal);
    return admin_exec_one(
        c,
        "WITH " ACL_TARGET
        "INSERT INTO aces (space_id, resource_id, principal_kind, "
        "principal_id, is_grant, privileges, position) "
        "SELECT tgt.space_id, tgt.id, who.kind, who.id, $4::boolean, "
        "$5::integer, coalesce((SELECT max(position) + 1 FROM aces "
        "WHERE resource_id = tgt.id), 0) FROM tgt, who",
        5, v, what, err, errlen);
}

enum db_admin_rc
db_acl_revoke(struct db_conn *c, const char *path, const char *principal,
              char *err, size_t errlen)
{
    char slug[128], p[2048];
    split_space_path(path, slug, sizeof(slug), p, sizeof(p));
    const char *v[3] = { slug, p, principal };
    char what[300];
    snprintf(what, sizeof(what), "no entry for \"%s\" on \"%s\"", principal,
             path);
    return admin_exec_one(c,
                          "WITH " ACL_TARGET
                          "DELETE FROM aces a USING tgt, who "
                          "WHERE a.resource_id = tgt.id AND "
                          "a.principal_kind = who.kind AND "
                          "a.principal_id = who.id",
                          3, v, what, err, errlen);
}

enum db_admin_rc
db_apppassword_add(struct db_conn *c, const char *user, const char *label,
                   const unsigned char sha[32], char *err, size_t errlen)
{
    char hex[65];
    hex_encode(sha, 32, hex);
    const char *v[3] = { user, label, hex };
    char what[160];
    snprintf(what, sizeof(what), "no user \"%s\"", user);
    return admin_exec_one(c,
                          "INSERT INTO app_passwords (user_id, label, sha256) "
                          "SELECT id, $2, decode($3, 'hex') FROM users "
                          "WHERE name = $1",
                          3, v, what, err, errlen);
}

enum db_admin_rc
db_apppassword_list(struct db_conn *c, const char *user, db_row_fn fn,
                    void *ctx, char *err, size_t errlen)
{
    const char *v[1] = { user };
    return admin_exec(
        c,
        "SELECT p.id::text, p.label, to_char(p.created_at AT TIME ZONE 'UTC',"
        " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), CASE WHEN p.revoked_at IS NULL "
        "THEN 'active' ELSE 'revoked' END FROM app_passwords p "
        "JOIN users u ON u.id = p.user_id WHERE u.name = $1 ORDER BY p.id",
        1, v, fn, ctx, NULL, err, errlen);
}

enum db_admin_rc
db_apppassword_revoke(struct db_conn *c, const char *user,
                      const char *id_or_label, char *err, size_t errlen)
{
    const char *v[2] = { user, id_or_label };
    char what[200];
    snprintf(what, sizeof(what), "no active app password \"%s\" for \"%s\"",
             id_or_label, user);
    return admin_exec_one(
        c,
        "UPDATE app_passwords p SET revoked_at = now() FROM users u "
        "WHERE u.id = p.user_id AND u.name = $1 AND p.revoked_at IS NULL "
        "AND (p.label = $2 OR p.id::text = $2)",
        2, v, what, err, errlen);
}

enum db_admin_rc
db_audit_list(struct db_conn *c, const struct db_audit_filter *f,
              db_row_fn fn, void *ctx, char *err, size_t errlen)
{
    const char *v[5] = { f->space, f->user, f->path, f->since, f->until };
    return admin_exec(
        c,
        "SELECT a.id::text, to_char(a.at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), coalesce(a.principal, ''), "
        "coalesce(a.client, ''), a.action, coalesce(a.path, ''), "
        "coalesce(a.status::text, ''), coalesce(a.resource_id::text, ''), "
        "coalesce(a.revision_id::text, ''), coalesce(a.detail, '') "
        "FROM audit a LEFT JOIN spaces s ON s.id = a.space_id "
        "WHERE ($1::text IS NULL OR s.slug = $1) "
        "AND ($2::text IS NULL OR a.principal = $2) "
        "AND ($3::text IS NULL OR a.path = $3 OR "
        "starts_with(a.path, $3 || '/')) "
        "AND ($4::text IS NULL OR a.at >= $4::timestamptz) "
        "AND ($5::text IS NULL OR a.at < $5::timestamptz) ORDER BY a.id",
        5, v, fn, ctx, NULL, err, errlen);
}

/* A row of integers into the int64_t array ctx, one per column. */
static void
row_ints(void *ctx, int ncols, const char *const *cols)
{
    int64_t *out = ctx;
    for (int i = 0; i < ncols; i++)
        out[i] = strtoll(cols[i], NULL, 10);
}

enum db_admin_rc
db_audit_seal(struct db_conn *c, bool wait, int64_t *sealed, char *err,
              size_t errlen)
{
    *sealed = 0;
    const char *v[1] = { wait ? "t" : "f" };
    enum db_admin_rc rc;
    int64_t n;
    do {
        n = 0;
        rc = admin_exec(c, "SELECT parvis_audit_seal(5000, $1::boolean)", 1,
                        v, row_ints, &n, NULL, err, errlen);
        *sealed += n;
    } while (rc == DB_ADMIN_OK && n == 5000);
    return rc;
}

struct verify_state {
    int64_t rows;
    int64_t bad;
};

static void
verify_row(void *ctx, int ncols, const char *const *cols)
{
    struct verify_state *vs = ctx;
    (void)ncols;
    vs->rows++;
    if (vs->bad == 0 && (cols[1][0] != 't' || cols[2][0] != 't'))
        vs->bad = strtoll(cols[0], NULL, 10);
}

/* The smaller of two row ids, 0 standing for none. */
static int64_t
first_bad(int64_t a, int64_t b)
{
    return a == 0 || (b != 0 && b < a) ? b : a;
}

enum db_admin_rc
db_audit_verify(struct db_conn *c, int64_t *rows, int64_t *bad, char *err,
                size_t errlen)
{
    /* Every committed row is sealed first (0008_audit_seal.sql), unless
     * the database takes no writes (a replica): then the rows still
     * waiting for their seal are left out, as they would be on the
     * primary a moment earlier. */
    int64_t sealed, read_only = 0;
    enum db_admin_rc rc = admin_exec(
        c, "SELECT (current_setting('transaction_read_only') = 'on')::int",
        0, NULL, row_ints, &read_only, NULL, err, errlen);
    if (rc == DB_ADMIN_OK && !read_only)
        rc = db_audit_seal(c, true, &sealed, err, errlen);
    if (rc != DB_ADMIN_OK)
        return rc;
    /* The chain: rows chained when inserted (before 0008), in id order,
     * then the seals in their order; each entry must link onto the one
     * before and hash its row as it is now, in the text version its seal
     * names (0017_audit_text_fields.sql). */
    struct verify_state vs = { 0, 0 };
    rc = admin_exec(
        c,
        "SELECT id::text, (prev = coalesce(lag(h) OVER (ORDER BY part, k), "
        "'\\x'::bytea))::text, hashed::text FROM ("
        "SELECT 0 AS part, a.id AS k, a.id, a.prev_hash AS prev, "
        "a.row_hash AS h, a.row_hash = sha256(a.prev_hash || "
        "convert_to(parvis_audit_text(a), 'UTF8')) AS hashed FROM audit a "
        "WHERE a.row_hash <> '\\x'::bytea UNION ALL "
        "SELECT 1, s.seq, s.audit_id, s.prev_hash, s.row_hash, "
        "coalesce(a.id IS NOT NULL AND s.row_hash = sha256(s.prev_hash || "
        "convert_to(parvis_audit_text(a, s.text_version), 'UTF8')), false) "
        "FROM audit_seal s "
        "LEFT JOIN audit a ON a.id = s.audit_id) c ORDER BY part, k",
        0, NULL, verify_row, &vs, NULL, err, errlen);
    if (rc != DB_ADMIN_OK)
        return rc;
    *rows = vs.rows;
    /* A row in neither part, or listed as pending without its row, was
     * removed from the chain or removed before its seal; rows removed at
     * the end leave the numbering ahead of the table. */
    int64_t found[2] = { 0, 0 };
    rc = admin_exec(
        c,
        "SELECT (SELECT coalesce(min(id), 0) FROM ("
        "SELECT a.id FROM audit a WHERE a.row_hash = '\\x'::bytea "
        "AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.audit_id = a.id) "
        "AND NOT EXISTS (SELECT 1 FROM audit_pending p WHERE p.id = a.id) "
        "UNION ALL SELECT p.id FROM audit_pending p "
        "WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.id = p.id)) x)"
        "::text, (SELECT CASE WHEN q.is_called AND q.last_value > m.id "
        "THEN m.id + 1 ELSE 0 END FROM audit_seq q, "
        "(SELECT coalesce(max(id), 0) AS id FROM audit) m)::text",
        0, NULL, row_ints, found, NULL, err, errlen);
    int64_t lost = found[0], tail = found[1];
    *bad = first_bad(first_bad(vs.bad, lost), tail);
    return rc;
}

enum db_admin_rc
db_audit_admin(struct db_conn *c, const char *action, const char *path,
               const char *detail, char *err, size_t errlen)
{
    const char *who = getenv("SUDO_USER");
    if (who == NULL) {
        struct passwd *pw = getpwuid(geteuid());
        who = pw != NULL ? pw->pw_name : getenv("USER");
    }
    char principal[128];
    snprintf(principal, sizeof(principal), "parvisctl:%s",
             who != NULL ? who : "?");
    const char *v[4] = { principal, action, path, detail };
    enum db_admin_rc rc =
        admin_exec(c,
                   "INSERT INTO audit (principal, client, action, path, "
                   "detail, status, prev_hash, row_hash) VALUES ($1, "
                   "'local', $2, $3, $4, 0, '', '')",
                   4, v, NULL, NULL, NULL, err, errlen);
    /* No server is told of this row: seal it now. */
    int64_t sealed;
    if (rc == DB_ADMIN_OK)
        rc = db_audit_seal(c, true, &sealed, err, errlen);
    return rc;
}

enum db_admin_rc
db_approval_set(struct db_conn *c, const char *path, const char *state,
                const char *comment, const char *as_user, char *err,
                size_t errlen)
{
    char slug[128], p[2048];
    split_space_path(path, slug, sizeof(slug), p, sizeof(p));
    /* Approval is for the files of the space: not for a trash entry
     * (restored, it would come back approved), nor for a calendar's
     * objects, which nothing publishes. */
    if (strncmp(p, "/.trash/", 8) == 0) {
        snprintf(err, errlen, "\"%s\" is in the trash: restore it first",
                 path);
        return DB_ADMIN_FAIL;
    }
    if (strncmp(p, "/.calendars/", 12) == 0) {
        snprintf(err, errlen, "\"%s\" is a calendar's: only files are "
                 "approved", path);
        return DB_ADMIN_FAIL;
    }
    /* The state records who moved the file: a name that is nobody's
     * would record no one. */
    if (as_user != NULL) {
        char who[300];
        snprintf(who, sizeof(who), "no user \"%s\"", as_user);
        const char *u[1] = { as_user };
        enum db_admin_rc rc = admin_exec_one(
            c, "SELECT 1 FROM users WHERE name = $1", 1, u, who, err,
            errlen);
        if (rc != DB_ADMIN_OK)
            return rc;
    }
    const char *v[5] = { slug, p, state, comment, as_user };
    char what[300];
    snprintf(what, sizeof(what), "no file \"%s\" with content", path);
    return admin_exec_one(
        c,
        "WITH u AS (SELECT id FROM users WHERE name = $5), "
        "f AS (UPDATE resources r SET approval_state = $3, "
        "approval_comment = coalesce($4, r.approval_comment), "
        /* Rejecting the approved revision withdraws it from the
         * published view, as over WebDAV (pg_store.c approval_set). */
        "approved_rev = CASE WHEN $3 = 'approved' THEN r.current_rev "
        "WHEN $3 = 'rejected' AND r.approved_rev = r.current_rev THEN NULL "
        "ELSE r.approved_rev END, "
        "approved_by = CASE WHEN $3 = 'approved' THEN (SELECT id FROM u) "
        "WHEN $3 = 'rejected' AND r.approved_rev = r.current_rev THEN NULL "
        "ELSE r.approved_by END, "
        "approved_at = CASE WHEN $3 = 'approved' THEN now() "
        "WHEN $3 = 'rejected' AND r.approved_rev = r.current_rev THEN NULL "
        "ELSE r.approved_at END, "
        "submitted_by = CASE WHEN $3 = 'submitted' THEN (SELECT id FROM u) "
        "ELSE r.submitted_by END FROM spaces s WHERE s.id = r.space_id AND "
        "s.slug = $1 AND r.id = parvis_resolve(s.id, $2) AND r.kind = 1 AND "
        "r.current_rev IS NOT NULL RETURNING r.current_rev), "
        "v AS (UPDATE revisions SET approved = true FROM f "
        "WHERE revisions.id = f.current_rev AND $3 = 'approved') "
        "SELECT 1 FROM f",
        5, v, what, err, errlen);
}

enum db_admin_rc
db_space_retention(struct db_conn *c, const char *slug, int keep_revisions,
                   int keep_days, char *err, size_t errlen)
{
    char kr[16], kd[16];
    snprintf(kr, sizeof(kr), "%d", keep_revisions);
    snprintf(kd, sizeof(kd), "%d", keep_days);
    const char *v[3] = { slug, keep_revisions > 0 ? kr : NULL,
                         keep_days > 0 ? kd : NULL };
    char what[160];
    snprintf(what, sizeof(what), "no space \"%s\"", slug);
    return admin_exec_one(c,
                          "UPDATE spaces SET keep_revisions = $2::integer, "
                          "keep_days = $3::integer WHERE slug = $1",
                          3, v, what, err, errlen);
}

enum db_admin_rc
db_purge(struct db_conn *c, int64_t *revisions, int64_t *chunks, char *err,
         size_t errlen)
{
    int rows = 0;
    char ignored[8];
    /* One transaction, with the content tables locked against writers:
     * an upload reusing a chunk cannot race its collection. */
    enum db_admin_rc rc = admin_exec(c, "BEGIN", 0, NULL, NULL, NULL, NULL,
                                     err, errlen);
    if (rc != DB_ADMIN_OK)
        return rc;
    rc = admin_exec(c,
                    "LOCK TABLE revisions, blobs, blob_chunks, chunks "
                    "IN SHARE ROW EXCLUSIVE MODE",
                    0, NULL, NULL, NULL, NULL, err, errlen);
    if (rc != DB_ADMIN_OK) {
        admin_exec(c, "ROLLBACK", 0, NULL, NULL, NULL, NULL, ignored,
                   sizeof(ignored));
        return rc;
    }
    /* Revisions beyond a space's retention: never a current or an
     * approved one (nor the approved revision a file points to). */
    rc = admin_exec(
        c,
        "DELETE FROM revisions v USING (SELECT v2.id FROM revisions v2 "
        "JOIN resources r ON r.id = v2.resource_id "
        "JOIN spaces s ON s.id = r.space_id "
        "WHERE NOT v2.approved AND v2.id <> coalesce(r.current_rev, 0) "
        "AND v2.id <> coalesce(r.approved_rev, 0) AND ("
        "(s.keep_revisions IS NOT NULL AND v2.num <= (SELECT max(num) "
        "FROM revisions v3 WHERE v3.resource_id = v2.resource_id) "
        "- s.keep_revisions) OR (s.keep_days IS NOT NULL AND "
        "v2.created_at < now() - s.keep_days * interval '1 day'))) old "
        "WHERE v.id = old.id",
        0, NULL, NULL, NULL, &rows, err, errlen);
    if (rc != DB_ADMIN_OK) {
        admin_exec(c, "ROLLBACK", 0, NULL, NULL, NULL, NULL, ignored,
                   sizeof(ignored));
        return rc;
    }
    *revisions = rows;
    /* Content no revision refers to: blobs, their chunk lists, chunks. */
    rc = admin_exec(c,
                    "DELETE FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM "
                    "revisions v WHERE v.space_id = b.space_id AND "
                    "v.sha256 = b.sha256)",
                    0, NULL, NULL, NULL, NULL, err, errlen);
    if (rc == DB_ADMIN_OK)
        rc = admin_exec(c,
                        "DELETE FROM blob_chunks bc WHERE NOT EXISTS (SELECT "
                        "1 FROM blobs b WHERE b.space_id = bc.space_id AND "
                        "b.sha256 = bc.blob_sha256)",
                        0, NULL, NULL, NULL, NULL, err, errlen);
    rows = 0;
    if (rc == DB_ADMIN_OK)
        rc = admin_exec(c,
                        "DELETE FROM chunks ch WHERE NOT EXISTS (SELECT 1 "
                        "FROM blob_chunks bc WHERE bc.space_id = ch.space_id "
                        "AND bc.chunk_sha256 = ch.sha256)",
                        0, NULL, NULL, NULL, &rows, err, errlen);
    *chunks = rows;
    if (rc == DB_ADMIN_OK)
        rc = admin_exec(c, "COMMIT", 0, NULL, NULL, NULL, NULL, err, errlen);
    else
        admin_exec(c, "ROLLBACK", 0, NULL, NULL, NULL, NULL, ignored,
                   sizeof(ignored));
    return rc;
}

enum db_admin_rc
db_handover_list(struct db_conn *c, const char *user, db_row_fn fn, void *ctx,
                 char *err, size_t errlen)
{
    const char *v[1] = { user };
    return admin_exec(
        c,
        "WITH u AS (SELECT id FROM users WHERE name = $1) "
        "SELECT 'owns', s.slug || CASE WHEN rp.path = '' THEN '/' "
        "ELSE rp.path END, CASE WHEN r.kind = 0 THEN 'folder' ELSE 'file' END "
        "FROM resources r JOIN spaces s ON s.id = r.space_id "
        "CROSS JOIN LATERAL (SELECT parvis_path(r.id) AS path) rp, u "
        "WHERE r.created_by = u.id AND rp.path NOT LIKE '/.%' "
        "UNION ALL SELECT 'locks', s.slug || l.root_path, l.token "
        "FROM locks l JOIN spaces s ON s.id = l.space_id, u "
        "WHERE l.principal_id = u.id AND l.expires_at > now() "
        "UNION ALL SELECT 'submitted', s.slug || parvis_path(r.id), "
        "coalesce(r.approval_comment, '') FROM resources r "
        "JOIN spaces s ON s.id = r.space_id, u WHERE r.submitted_by = u.id "
        "AND r.approval_state = 'submitted' ORDER BY 1, 2",
        1, v, fn, ctx, NULL, err, errlen);
}
