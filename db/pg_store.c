/*
 * db/pg_store.c -- the connection pool and the implementation of
 * dav/dav_store.h on PostgreSQL.
 *
 * Pool: at most 'size' connections, opened lazily, each with every
 * statement of this file prepared.  A request leases one connection for
 * its transaction (txn_begin .. commit/rollback); chunk reads outside a
 * transaction lease one per call.  A connection found broken (the database
 * restarted) is reopened on the next lease; a BEGIN that fails on a broken
 * connection is retried once on a fresh one, so that a database restart
 * costs no failed request once the database is back.  So is a BEGIN on a
 * server that stopped taking writes after we connected (a former primary
 * fenced read-only), and a connection whose statement was refused as a
 * write on a read-only server (SQLSTATE 25006) is closed when its lease
 * ends: with a multi-host dsn and target_session_attrs=read-write, the
 * fresh connection reaches whichever server is the primary now
 * (docs/scaling.md).
 *
 * Content: chunks travel as binary parameters and results (no hex
 * encoding).  A resource names its parent by id (decision 0034): a path
 * is resolved from the space's root down, one index probe per level, so
 * a MOVE or a DELETE (to the trash) of a tree rewrites its top row alone
 * whatever its size, and a COPY is a handful of statements.
 */
#include "db/chunk_cache.h"
#include "db/disk_cache.h"
#include "db/db_int.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dav/dav.h"

#define POOL_WAIT_SECONDS 30
/* A prepared statement keeps the generic plan it got once the first few
 * executions are past, planned for the tables' sizes of that moment, until
 * something invalidates it.  A connection opened on a young database (a
 * calendar of 10 events that is to hold 10,000) would keep scanning tables
 * it should probe by index: each connection has its plans made again
 * (DISCARD PLANS, on its next lease) 1 s after it opened, then after 2, 4,
 * 8 and 16 s more, then every PLAN_SECONDS.  (Every 20 s from the start,
 * a thousand small PUTs into a new database took three times the CPU for
 * the first 20 s, and a MOVE of a thousand members ten times the time.) */
#define PLAN_SECONDS 20

struct db_pool {
    char *dsn;
    unsigned size;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct db_conn *conns;
    bool *busy;
    struct chunk_cache *chunks;   /* hot small chunks; may be NULL */
    struct disk_cache *disk;      /* larger chunks in files; may be NULL */
    struct db_sealer *sealer;     /* set while no request runs; may be NULL */
    struct stamp_source *stamps;
};

/*
 * The database's state now (pg_stamp_now, decision 0027), read by one
 * statement for every request that asked before it was sent: a request
 * takes a ticket; the first to find no statement on its way sends one for
 * all the tickets given so far; those who asked later wait for the next.
 * The snapshot texts it reads are numbered, a new number for each new
 * text, and a request is told the number: waiting and reading need no
 * lock (the readers of a busy node would queue on one), only atomics and
 * a futex to sleep on.  The statement runs on a connection of its own.
 */
struct stamp_source {
    atomic_uint_fast64_t asked;    /* tickets given */
    atomic_uint_fast64_t answered; /* tickets up to this one are answered */
    atomic_uint_fast64_t gen;      /* number of the last text; 0: none */
    atomic_int_fast64_t db_now;    /* the database's clock then (Unix s) */
    atomic_uint epoch;             /* moves with each answer (futex word) */
    atomic_bool running;           /* a statement is on its way */
    /* The runner's alone: */
    PGconn *pg;                    /* the statement's connection, or NULL */
    time_t failed_at;              /* last failure (monotonic s) */
    bool warned;                   /* a failure logged, none since fixed */
    /* Under the lock: */
    pthread_mutex_t lock;
    char *text;                    /* the snapshot numbered last, or NULL */
    uint64_t text_gen;
};
static struct stamp_source *stamp_source_create(void);
static void stamp_source_destroy(struct stamp_source *s);

/* The chunk cache keeps chunks of at most CHUNK_CACHE_MAX_CHUNK bytes (the
 * content of small files, read again and again) within CHUNK_CACHE_BYTES;
 * the 256 KiB chunks of large files stream past it, so that a large
 * transfer neither evicts the hot set nor grows the process.  Those go to
 * the disk cache when there is one (chunk_cache_dir), as they are uploaded
 * and as they are read from PostgreSQL. */
#define CHUNK_CACHE_BYTES (16u * 1024 * 1024)
#define CHUNK_CACHE_MAX_CHUNK (64u * 1024)

/*
 * A write inside a transaction whose answer can wait (an audit row, a
 * small chunk): it goes with the lease's next statement or its COMMIT, in
 * libpq's pipeline mode, one round trip for both.  Its parameters are
 * copied into 'buf', owned by the lease and reused.
 */
#define DEFER_MAX_PARAMS 10
#define DEFER_MAX_BYTES (DAV_CHUNK_SIZE + 4096)
/* Writes waiting at once: a calendar object's index row and the request's
 * audit row both go with the COMMIT. */
#define DEFER_MAX 2
/* Groups of writes sent ahead at once (send_ahead), each ended by its own
 * sync: the chunks of a large upload in flight while the next arrives. */
#define AHEAD_MAX 3
/* The send buffer of a pooled connection (conn_open): room for the chunks
 * of an upload in flight, so that sending one does not wait for
 * PostgreSQL to read the one before (the kernel caps it at
 * net.core.wmem_max; the memory is taken only while data waits in it). */
#define AHEAD_SNDBUF ((int)(AHEAD_MAX * DAV_CHUNK_SIZE + 65536))

struct deferred {
    const char *stmt;           /* NULL: nothing waits */
    int n;
    const char *vals[DEFER_MAX_PARAMS];
    int lens[DEFER_MAX_PARAMS];
    int fmts[DEFER_MAX_PARAMS];
    char *buf;                  /* malloc'd, cap bytes */
    size_t cap;
};

struct lease {
    struct db_pool *pool;
    unsigned idx;
    struct db_conn *c;
    bool autocommit;  /* read_begin: no transaction open */
    bool used;        /* a statement ran on this lease */
    bool audited;     /* audit rows added: the sealer is told at commit */
    /* Writes whose answer can wait, in order (struct deferred); nlater
     * of them wait. */
    struct deferred later[DEFER_MAX];
    unsigned nlater;
    /* Writes sent ahead (send_ahead), results unread: 'nahead' groups,
     * oldest first, of ahead[i] writes and a sync each. */
    unsigned ahead[AHEAD_MAX];
    unsigned nahead;
    /* The first statement of the transaction that failed, as the caller
     * was told: a COMMIT then answered ROLLBACK fails the same way (a
     * retry for a serialization failure or a deadlock). */
    enum dav_store_rc failed;
    struct disk_cache_fill *fill; /* the upload written whole (disk cache) */
    /* A write's target's parent, read with the target (lookup_lock_parent)
     * for the lookup of it that comes next, before any other statement;
     * given once.  NULL: none. */
    const char *pre_path;
    int64_t pre_space;
    bool pre_found;
    struct dav_resource pre_res;
};

/* ---- statements ------------------------------------------------------------ */

/* The columns of a resource (row_to_res), then the joins they need.
 * Per row, as listings run it a thousand times a page: epoch seconds through
 * date_part (double precision, exact to the microsecond at these
 * magnitudes) rather than extract (numeric), and the names of approvers
 * and of who trashed looked up only when there is one (a subplan run with
 * NULL costs as much as one that finds a row): a Depth 1 listing of 1,000
 * files went from 6.6 to 4.8 ms in PostgreSQL (pgbench, with the join to
 * revisions that 0010_current_revision then removed). */
/* For the listing cache (decision 0026): the server (its postmaster's start,
 * so that another server, such as a promoted standby, never gives a stamp
 * seen before) and its snapshot; none on a standby, whose snapshots do not
 * list the transactions running on the primary. */
#define LISTING_STAMP                                                         \
    "CASE WHEN pg_is_in_recovery() OR "                                      \
    "current_setting('transaction_read_only')::bool THEN NULL ELSE "         \
    "pg_postmaster_start_time()::text || '/' || pg_current_snapshot()::text " \
    "END"

/* Members a page of a listing (pg_children_next), and one more. */
#define LIST_PAGE 500
#define LIST_PAGE_MORE 501

#define RES_SELECT                                                            \
    "r.id, r.space_id, rp.path, r.name, r.kind, coalesce(r.current_rev, 0), " \
    "coalesce(v.num, 0), coalesce(v.size, 0), v.content_type, "              \
    "encode(v.sha256, 'hex'), "                                              \
    "floor(date_part('epoch', r.created_at))::bigint, "                      \
    "floor(date_part('epoch', r.modified_at))::bigint, "                     \
    "coalesce(r.created_by, 0), cu.name, "                                   \
    "(cal.resource_id IS NOT NULL)::int, "                                   \
    "array_to_string(cal.components, ','), "                                 \
    "r.approval_state, r.approval_comment, coalesce(r.approved_rev, 0), "    \
    "CASE WHEN r.approved_by IS NOT NULL THEN "                              \
    "(SELECT name FROM users WHERE id = r.approved_by) END, "                \
    "coalesce(floor(date_part('epoch', r.approved_at))::bigint, 0), "        \
    "r.trashed_from, CASE WHEN r.trashed_by IS NOT NULL THEN "               \
    "(SELECT name FROM users WHERE id = r.trashed_by) END, "                 \
    "coalesce(floor(date_part('epoch', r.trashed_at))::bigint, 0) "
#define RES_JOIN_CAL(cond)                                                    \
    "LEFT JOIN users cu ON cu.id = r.created_by "                            \
    "LEFT JOIN calendars cal ON " cond "cal.resource_id = r.id "
#define RES_JOINS RES_JOIN_CAL("")
/* The current revision's values, kept on the resource (0010_current_revision)
 * and named as the columns of revisions; PostgreSQL folds this into the scan
 * of resources. */
#define RES_CURRENT                                                           \
    "CROSS JOIN LATERAL (SELECT r.cur_num AS num, r.cur_size AS size, "      \
    "r.cur_type AS content_type, r.cur_sha256 AS sha256) v "
/* A row's path, as the statement knows it: from its parameters, or
 * parvis_path() for rows found otherwise (decision 0034). */
#define RES_PATH(e) "CROSS JOIN LATERAL (SELECT " e " AS path) rp "
#define RES_FROM(e)                                                           \
    "FROM resources r " RES_CURRENT RES_PATH(e) RES_JOINS
/* The members of a folder other than the calendars folder, the only one
 * that holds calendars (create_calendar): no probe of calendars, one per
 * member (half the listing statement's time).  Chosen by the caller
 * (holds_calendars) rather than by a parameter, which a generic plan
 * could not fold away. */
#define MEMBER_PATH "$2 || '/' || r.name"
#define RES_FROM_MEMBERS                                                      \
    "FROM resources r " RES_CURRENT RES_PATH(MEMBER_PATH)                    \
    RES_JOIN_CAL("false AND ")
#define MEMBERS_OF                                                            \
    "WHERE r.parent_id = parvis_resolve($1, $2) ORDER BY r.name"
/* A space (row_to_space) by slug $1 if user $2 may reach it: its members
 * and principals granted something inside it by an access control entry
 * (parvis_acl_reaches, 0009_acl_reach.sql: called only for non-members,
 * and the plan set up on each execution stays small). */
#define SPACE_COLS                                                            \
    "s.id, s.slug, s.title, coalesce(m.role, '') AS role, "                  \
    "floor(extract(epoch FROM s.created_at))::bigint AS created, "           \
    "coalesce(s.quota_bytes, -1) AS quota, "                                 \
    "EXISTS (SELECT 1 FROM aces a WHERE a.space_id = s.id) AS has_aces "
#define SPACE_FOR_USER                                                        \
    "FROM spaces s LEFT JOIN LATERAL (SELECT mm.role, mm.user_id "           \
    "FROM members mm WHERE mm.space_id = s.id AND mm.user_id = $2 "          \
    "OFFSET 0) m ON true "                                                   \
    "WHERE s.slug = $1 AND NOT s.archived AND (m.user_id IS NOT NULL OR "    \
    "parvis_acl_reaches(s.id, $2))"
/* The same, showing the approved revision of files (published view). */
#define RES_FROM_PUBLISHED(e)                                                 \
    "FROM resources r LEFT JOIN revisions v ON v.id = r.approved_rev "       \
    RES_PATH(e) RES_JOINS
/* What the published view shows: approved files, and folders holding one;
 * never the trash or the calendars. */
#define PUBLISHED_ONLY                                                        \
    "((r.kind = 1 AND r.approved_rev IS NOT NULL) OR (r.kind = 0 AND "       \
    "(r.parent_id IS NULL OR parvis_holds_approved(r.id)))) "                \
    "AND rp.path <> '/.trash' AND rp.path NOT LIKE '/.trash/%' AND "        \
    "rp.path <> '/.calendars' AND rp.path NOT LIKE '/.calendars/%' "

#define RES_COLS(e) RES_SELECT RES_FROM(e)

static const struct pg_stmt stmts[] = {
    { "user_by_name",
      "SELECT id, name, password_hash, coalesce(display_name, ''), "
      "coalesce(email, ''), disabled OR (expires_at IS NOT NULL AND "
      "expires_at <= now()), kind = 'guest', "
      "coalesce(floor(extract(epoch FROM expires_at))::bigint, 0) "
      "FROM users WHERE name = $1" },
    /* A space is reachable by its members and by principals granted
     * something inside it by an access control entry. */
    { "space_for_user", "SELECT " SPACE_COLS SPACE_FOR_USER },
    /* space_for_user, principal_valid and lookup at once (one row). */
    { "space_lookup",
      "SELECT sp.*, (SELECT coalesce(floor(extract(epoch FROM "
      "u.expires_at))::bigint, 0) FROM users u WHERE u.id = $2 AND "
      "NOT u.disabled AND (u.expires_at IS NULL OR u.expires_at > now()) "
      "AND ($4::bigint = 0 OR EXISTS (SELECT 1 FROM app_passwords p "
      "WHERE p.id = $4 AND p.user_id = u.id AND p.revoked_at IS NULL))), "
      RES_SELECT ", " LISTING_STAMP " "
      "FROM (SELECT " SPACE_COLS SPACE_FOR_USER ") sp "
      "RIGHT JOIN (SELECT 1) one ON true "
      "LEFT JOIN (resources r " RES_CURRENT RES_PATH("$3::text")
      RES_JOINS ") ON r.id = parvis_resolve(sp.id, $3)" },
    { "spaces_of_user",
      "SELECT s.id, s.slug, s.title, coalesce(m.role, ''), "
      "floor(extract(epoch FROM s.created_at))::bigint, "
      "coalesce(s.quota_bytes, -1), "
      "EXISTS (SELECT 1 FROM aces a WHERE a.space_id = s.id) "
      "FROM spaces s LEFT JOIN members m ON m.space_id = s.id "
      "AND m.user_id = $1 "
      "WHERE NOT s.archived AND (m.user_id IS NOT NULL OR "
      "EXISTS (SELECT 1 FROM aces a WHERE a.space_id = s.id AND a.is_grant "
      "AND ((a.principal_kind = 'user' AND a.principal_id = $1) OR "
      "(a.principal_kind = 'space' AND a.principal_id IN "
      "(SELECT space_id FROM members WHERE user_id = $1))))) "
      "ORDER BY s.slug" },
    { "space_by_slug",
      "SELECT s.id, s.slug, s.title, '', "
      "floor(extract(epoch FROM s.created_at))::bigint, "
      "coalesce(s.quota_bytes, -1), false FROM spaces s WHERE s.slug = $1" },
    /* Two statements, not one with "$2 = 0 OR ...": that form keeps
     * PostgreSQL re-planning it on every execution. */
    { "principal_valid",
      "SELECT 1 FROM users WHERE id = $1 AND NOT disabled AND "
      "(expires_at IS NULL OR expires_at > now())" },
    { "principal_valid_app",
      "SELECT 1 FROM users u JOIN app_passwords p ON p.user_id = u.id "
      "WHERE u.id = $1 AND NOT u.disabled AND (u.expires_at IS NULL OR "
      "u.expires_at > now()) AND p.id = $2 AND p.revoked_at IS NULL" },
    { "app_passwords",
      "SELECT id, encode(sha256, 'hex') FROM app_passwords "
      "WHERE user_id = $1 AND revoked_at IS NULL" },
    /* The entries on the paths $2 (found through aces_resource), or
     * with aces_find_all those of the whole space, each resource's path
     * made from the row up. */
#define ACES_FIND(from, path, where)                                          \
    "SELECT " path ", a.principal_kind = 'user', a.principal_id, "           \
    "coalesce(u.name, ps.slug, ''), a.is_grant, a.privileges FROM " from    \
    "LEFT JOIN users u ON a.principal_kind = 'user' AND "                    \
    "u.id = a.principal_id "                                                  \
    "LEFT JOIN spaces ps ON a.principal_kind = 'space' AND "                 \
    "ps.id = a.principal_id WHERE " where                                    \
    " AND ($3::bigint = 0 OR (a.principal_kind = 'user' AND "                \
    "a.principal_id = $3) OR (a.principal_kind = 'space' AND "               \
    "a.principal_id IN (SELECT space_id FROM members WHERE user_id = $3))) " \
    "ORDER BY " path " COLLATE \"C\", a.position, a.id"
    { "aces_find",
      ACES_FIND("unnest($2::text[]) q(path) JOIN aces a ON a.space_id = $1 "
                "AND a.resource_id = parvis_resolve($1, q.path) ",
                "q.path", "true") },
    { "aces_find_all",
      ACES_FIND("aces a ", "parvis_path(a.resource_id)",
                "a.space_id = $1 AND $2::text IS NULL") },
    { "aces_clear", "DELETE FROM aces WHERE resource_id = $1" },
    { "ace_add",
      "INSERT INTO aces (space_id, resource_id, principal_kind, principal_id, "
      "is_grant, privileges, position) VALUES ($1, $2, $3, $4, $5, $6, $7)" },
    { "space_members",
      "SELECT u.name, coalesce(u.display_name, ''), m.role FROM members m "
      "JOIN users u ON u.id = m.user_id WHERE m.space_id = $1 "
      "ORDER BY u.name" },
    { "users_visible",
      "SELECT u.id, u.name, '', coalesce(u.display_name, ''), "
      "coalesce(u.email, ''), u.disabled, u.kind = 'guest', "
      "coalesce(floor(extract(epoch FROM u.expires_at))::bigint, 0) FROM users u "
      "WHERE ($2::text IS NULL OR u.name = $2) AND (u.id = $1 OR EXISTS "
      "(SELECT 1 FROM members a JOIN members b ON a.space_id = b.space_id "
      "WHERE a.user_id = $1 AND b.user_id = u.id)) ORDER BY u.name" },
    { "lookup", "SELECT " RES_COLS("$2::text")
      "WHERE r.id = parvis_resolve($1, $2)" },
    { "lookup_lock",
      "SELECT " RES_COLS("$2::text") "WHERE r.id = parvis_resolve($1, $2) "
      "FOR UPDATE OF r" },
    /* The same, and the parent $3 (not locked: writers in one folder do
     * not wait for each other), which the write looks up next. */
    { "lookup_lock_parent",
      "WITH t AS (SELECT " RES_COLS("$2::text")
      "WHERE r.id = parvis_resolve($1, $2) FOR UPDATE OF r), "
      "p AS (SELECT " RES_COLS("$3::text") "WHERE r.id = parvis_resolve($1, $3)) "
      "SELECT * FROM t UNION ALL SELECT * FROM p" },
    /* A write's target's collections kept where they are until it
     * commits, and the target itself (decision 0020): $2, a text[] of
     * the paths from the root down to the target (ancestors_array),
     * shared but the last.  A DELETE, MOVE or LOCK of a collection,
     * holding its path alone, waits for the writes below it, and they
     * for it.  Advisory locks live in PostgreSQL's memory: no row is
     * written, nothing goes to the WAL. */
    { "path_locks",
      "SELECT CASE WHEN a.n < cardinality($2::text[]) "
      "THEN pg_advisory_xact_lock_shared(a.k) ELSE pg_advisory_xact_lock(a.k) "
      "END FROM (SELECT n, hashtextextended('parvis path ' || $1 || ' ' || p, "
      "0) AS k FROM unnest($2::text[]) WITH ORDINALITY AS u(p, n)) a "
      "ORDER BY a.n" },
    { "children", "SELECT " RES_SELECT RES_FROM_MEMBERS MEMBERS_OF },
    { "children_cal", "SELECT " RES_COLS(MEMBER_PATH) MEMBERS_OF },
    { "children_count",
      "SELECT count(*) FROM resources WHERE parent_id = parvis_resolve($1, $2)" },
    /* A listing expected to fit in one page (pg_children_open): one more
     * row than a page says that it no longer does. */
    { "children_page", "SELECT " RES_SELECT RES_FROM_MEMBERS MEMBERS_OF
      " LIMIT " PG_STR(LIST_PAGE_MORE) },
    { "children_page_cal", "SELECT " RES_COLS(MEMBER_PATH) MEMBERS_OF
      " LIMIT " PG_STR(LIST_PAGE_MORE) },
    { "props_get",
      "SELECT resource_id, ns, name, value FROM props "
      "WHERE space_id = $1 AND resource_id = ANY($2::bigint[]) "
      "ORDER BY resource_id, ns, name" },
    { "prop_set",
      "INSERT INTO props (space_id, resource_id, ns, name, value) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (resource_id, ns, name) "
      "DO UPDATE SET value = excluded.value" },
    { "prop_remove",
      "DELETE FROM props WHERE resource_id = $1 AND ns = $2 AND name = $3" },
    { "create",
      "INSERT INTO resources (space_id, parent_id, name, kind, created_by) "
      "SELECT $1, p.id, $3, $4, nullif($5, 0) "
      "FROM parvis_resolve($1, $2) p(id) WHERE p.id IS NOT NULL "
      "ON CONFLICT (parent_id, name) DO NOTHING "
      "RETURNING id, floor(extract(epoch FROM created_at))::bigint" },
    { "chunk_put",
      "INSERT INTO chunks (space_id, sha256, size, data) "
      "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING" },
    /* A content (its blob, and its chunk list when it is new), its
     * revision and the resource pointing at it, in one statement.
     * $1 space, $2 sha256, $3 size, $4 resource, $5 author, $6 type,
     * $7/$8 the chunks' hashes (hex) and sizes in order. */
    { "revision_put",
      "WITH b AS (INSERT INTO blobs (space_id, sha256, size) "
      "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1), "
      "bc AS (INSERT INTO blob_chunks (space_id, blob_sha256, seq, "
      "chunk_sha256, size) SELECT $1, $2, s.ord - 1, decode(s.sha, 'hex'), "
      "s.sz FROM unnest($7::text[], $8::int[]) WITH ORDINALITY "
      "AS s(sha, sz, ord) WHERE EXISTS (SELECT 1 FROM b)), "
      "rev AS (INSERT INTO revisions (space_id, resource_id, num, "
      "author_id, size, content_type, sha256) VALUES ($1, $4, "
      "(SELECT coalesce(max(num), 0) + 1 FROM revisions "
      "WHERE resource_id = $4), nullif($5, 0), $3, $6, $2) "
      "RETURNING id, num) "
      "UPDATE resources SET current_rev = rev.id, cur_num = rev.num, "
      "cur_size = $3, cur_type = $6, cur_sha256 = $2, modified_at = now(), "
      "approval_state = 'draft' FROM rev WHERE resources.id = $4 "
      "RETURNING rev.id, rev.num, "
      "floor(extract(epoch FROM resources.modified_at))::bigint" },
    /* A new file with its first revision, in one statement (a file
     * created empty, then given a revision, was written twice, and its
     * change logged twice).  Ids drawn first, as copy_tree does; the
     * revision's reference to the file is checked at the end of the
     * statement, the file's to the revision at commit.  $1 space, $2
     * sha256, $3 size, $4 parent path, $5 name, $6 author, $7 type,
     * $8/$9 the chunks as in revision_put.  No row: the name was taken
     * meanwhile. */
    { "revision_create",
      "WITH ids AS MATERIALIZED (SELECT nextval('resources_id_seq') AS rid, "
      "nextval('revisions_id_seq') AS vid), "
      "b AS (INSERT INTO blobs (space_id, sha256, size) "
      "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1), "
      "bc AS (INSERT INTO blob_chunks (space_id, blob_sha256, seq, "
      "chunk_sha256, size) SELECT $1, $2, s.ord - 1, decode(s.sha, 'hex'), "
      "s.sz FROM unnest($8::text[], $9::int[]) WITH ORDINALITY "
      "AS s(sha, sz, ord) WHERE EXISTS (SELECT 1 FROM b)), "
      "r AS (INSERT INTO resources (id, space_id, parent_id, name, "
      "kind, created_by, current_rev, cur_num, cur_size, cur_type, "
      "cur_sha256) SELECT rid, $1, p.id, $5, 1, nullif($6, 0), vid, 1, "
      "$3, $7, $2 FROM ids, parvis_resolve($1, $4) p(id) "
      "WHERE p.id IS NOT NULL ON CONFLICT (parent_id, name) DO NOTHING "
      "RETURNING id, current_rev, created_at), "
      "v AS (INSERT INTO revisions (id, space_id, resource_id, num, "
      "author_id, size, content_type, sha256) SELECT r.current_rev, $1, "
      "r.id, 1, nullif($6, 0), $3, $7, $2 FROM r) "
      "SELECT id, current_rev, floor(extract(epoch FROM created_at))::bigint "
      "FROM r" },
    { "content_chunks",
      "SELECT encode(chunk_sha256, 'hex'), size FROM blob_chunks "
      "WHERE space_id = $1 AND blob_sha256 = $2 ORDER BY seq" },
    { "chunk_read",
      "SELECT data FROM chunks WHERE space_id = $1 AND sha256 = $2" },
    /* parvis.guarded tells the change log (0021_changes_guarded) that
     * the tree held access control entries, which the removal takes
     * with it before the log's trigger runs. */
    { "remove",
      "WITH t AS MATERIALIZED (SELECT id FROM "
      "parvis_subtree(parvis_resolve($1, $2))), "
      "l AS (DELETE FROM locks WHERE space_id = $1 AND (root_path = $2 "
      "OR (root_path >= $2 || '/' AND root_path < $2 || '0'))) "
      "DELETE FROM resources WHERE id IN (SELECT id FROM t) "
      "AND (SELECT set_config('parvis.guarded', EXISTS (SELECT 1 "
      "FROM aces a WHERE a.space_id = $1 AND a.resource_id IN "
      "(SELECT id FROM t))::text, true)) IS NOT NULL" },
    /* copy: $1 src space, $2 src path, $3 dst space, $4 depth0,
     * $5 dst parent path, $6 dst name, $7 author.  One
     * statement: the copies' ids are drawn first, so each new row is
     * written once with its revision 1 and its current-revision copy, and
     * its dead properties follow; the foreign keys between the two tables
     * are checked at the end of the statement or at commit. */
    { "copy_tree",
      "WITH root AS MATERIALIZED (SELECT parvis_resolve($1, $2) AS id), "
      "src AS MATERIALIZED (SELECT o.id AS oid, o.parent_id AS opid, "
      "o.id = root.id AS top, "
      "nextval('resources_id_seq') AS nid, CASE WHEN o.current_rev IS NOT "
      "NULL THEN nextval('revisions_id_seq') END AS vid, "
      "CASE WHEN o.id = root.id THEN $6 ELSE o.name END AS name, o.kind, "
      "o.cur_size, o.cur_type, o.cur_sha256 "
      /* Depth 0: the source's own row, without walking the tree. */
      "FROM root, (SELECT * FROM resources WHERE $4 AND id = "
      "(SELECT id FROM root) UNION ALL SELECT * FROM "
      "parvis_subtree((SELECT id FROM root)) WHERE NOT $4) o), "
      "r AS (INSERT INTO resources (id, space_id, parent_id, name, "
      "kind, current_rev, cur_num, cur_size, cur_type, cur_sha256) "
      "SELECT s.nid, $3, CASE WHEN s.top THEN parvis_resolve($3, $5) "
      "ELSE p.nid END, s.name, s.kind, s.vid, "
      "CASE WHEN s.vid IS NOT NULL THEN 1 END, s.cur_size, s.cur_type, "
      "s.cur_sha256 FROM src s LEFT JOIN src p ON NOT s.top AND "
      "p.oid = s.opid), "
      "v AS (INSERT INTO revisions (id, space_id, resource_id, num, "
      "author_id, size, content_type, sha256) "
      "SELECT vid, $3, nid, 1, nullif($7, 0), cur_size, cur_type, cur_sha256 "
      "FROM src WHERE vid IS NOT NULL) "
      "INSERT INTO props (space_id, resource_id, ns, name, value) "
      "SELECT $3, s.nid, p.ns, p.name, p.value "
      "FROM src s JOIN props p ON p.resource_id = s.oid" },
    /* Content of the tree at $2 in space $3 whose bytes live in space $1. */
    { "copy_blobs",
      "INSERT INTO blobs (space_id, sha256, size) "
      "SELECT DISTINCT $3::bigint, b.sha256, b.size FROM resources n "
      "JOIN revisions v ON v.resource_id = n.id "
      "JOIN blobs b ON b.space_id = $1 AND b.sha256 = v.sha256 "
      "WHERE n.id IN (SELECT id FROM parvis_subtree(parvis_resolve($3, $2))) "
      "ON CONFLICT DO NOTHING" },
    { "copy_blob_chunks",
      "INSERT INTO blob_chunks (space_id, blob_sha256, seq, chunk_sha256, "
      "size) SELECT DISTINCT $3::bigint, bc.blob_sha256, bc.seq, "
      "bc.chunk_sha256, bc.size FROM resources n "
      "JOIN revisions v ON v.resource_id = n.id "
      "JOIN blob_chunks bc ON bc.space_id = $1 AND bc.blob_sha256 = v.sha256 "
      "WHERE n.id IN (SELECT id FROM parvis_subtree(parvis_resolve($3, $2))) "
      "ON CONFLICT DO NOTHING" },
    { "copy_chunks",
      "INSERT INTO chunks (space_id, sha256, size, data) "
      "SELECT $3, c.sha256, c.size, c.data FROM chunks c "
      "WHERE c.space_id = $1 AND c.sha256 IN ("
      "SELECT bc.chunk_sha256 FROM blob_chunks bc "
      "JOIN revisions v ON bc.space_id = $3 AND bc.blob_sha256 = v.sha256 "
      "JOIN resources n ON n.id = v.resource_id "
      "WHERE n.id IN (SELECT id FROM "
      "parvis_subtree(parvis_resolve($3, $2)))) "
      "ON CONFLICT DO NOTHING" },
    /* move: $1 src space, $2 src path, $3 dst space, $4 dst parent path,
     * $5 dst name.  The moved resource's row alone: its members follow
     * it by id (decision 0034), whatever their number. */
    { "move_tree",
      "WITH l AS (DELETE FROM locks WHERE space_id = $1 AND (root_path = $2 "
      "OR (root_path >= $2 || '/' AND root_path < $2 || '0'))), "
      "m AS MATERIALIZED (SELECT parvis_resolve($1, $2) AS id, "
      "parvis_resolve($3, $4) AS dst) "
      "UPDATE resources r SET space_id = $3, parent_id = m.dst, name = $5, "
      "trashed_from = NULL, trashed_by = NULL, trashed_at = NULL FROM m "
      "WHERE r.id = m.id AND m.dst IS NOT NULL AND "
      "NOT parvis_within(m.dst, m.id) RETURNING r.id" },
    /* Calendar objects follow a move: to their new calendar, or out of
     * the index when their new folder is no calendar.  Within a space only
     * the moved resource's parent changes (the rows below keep theirs, by
     * id), so calobj_follow_one looks at it alone. */
#define CALOBJ_FOLLOW(rows)                                                   \
    "WITH t AS (SELECT r.id, c.resource_id AS cal FROM resources r "          \
    "JOIN resources p ON p.id = r.parent_id "                                 \
    "LEFT JOIN calendars c ON c.resource_id = p.id "                          \
    "WHERE " rows "), "                                                       \
    "d AS (DELETE FROM calendar_objects o USING t "                           \
    "WHERE o.resource_id = t.id AND t.cal IS NULL) "                          \
    "UPDATE calendar_objects o SET calendar_id = t.cal, space_id = $1 "       \
    "FROM t WHERE o.resource_id = t.id AND t.cal IS NOT NULL"
    { "calobj_follow", CALOBJ_FOLLOW("r.id IN (SELECT id FROM "
                                     "parvis_subtree(parvis_resolve($1, $2)))") },
    { "calobj_follow_one", CALOBJ_FOLLOW("r.id = parvis_resolve($1, $2)") },
    { "move_space_rows",
      "WITH t AS MATERIALIZED (SELECT id FROM "
      "parvis_subtree(parvis_resolve($2, $3))), "
      "n AS (UPDATE resources SET space_id = $2 WHERE id IN "
      "(SELECT id FROM t) AND space_id <> $2), "
      "p AS (UPDATE props SET space_id = $2 WHERE resource_id IN "
      "(SELECT id FROM t)), "
      "a AS (UPDATE aces SET space_id = $2 WHERE resource_id IN "
      "(SELECT id FROM t)) "
      "UPDATE revisions SET space_id = $2 WHERE resource_id IN "
      "(SELECT id FROM t) AND $1::bigint IS NOT NULL" },
    { "ping", "SELECT 1" },
    { "personal_space_get",
      "SELECT s.id, s.slug, s.title, 'manager', "
      "floor(extract(epoch FROM s.created_at))::bigint, "
      "coalesce(s.quota_bytes, -1), "
      "EXISTS (SELECT 1 FROM aces a WHERE a.space_id = s.id), "
      LISTING_STAMP " "
      "FROM users u JOIN spaces s ON s.id = u.personal_space_id "
      "WHERE u.id = $1" },
    /* A personal space: the space, its root, its manager, in one go. */
    { "personal_space_make",
      "WITH s AS (INSERT INTO spaces (slug, title, personal) "
      "VALUES ('p-' || $1::text, $2, true) "
      "ON CONFLICT (slug) DO NOTHING RETURNING id), "
      "i AS MATERIALIZED (SELECT nextval('resources_id_seq') AS root FROM s), "
      "r AS (INSERT INTO resources (id, space_id, parent_id, name, kind, "
      "created_by) SELECT i.root, s.id, NULL, 'p-' || $1::text, 0, "
      "$1::bigint FROM s, i), "
      "m AS (INSERT INTO members (space_id, user_id, role) "
      "SELECT id, $1::bigint, 'manager' FROM s), "
      "c AS (INSERT INTO resources (space_id, parent_id, name, kind, "
      "created_by) SELECT s.id, i.root, '.calendars', 0, $1::bigint "
      "FROM s, i) "
      "UPDATE users SET personal_space_id = (SELECT id FROM s) "
      "WHERE id = $1::bigint AND EXISTS (SELECT 1 FROM s)" },
    { "calendars_of_user",
      "SELECT s.id, s.slug, s.title, m.role, "
      "floor(extract(epoch FROM s.created_at))::bigint, "
      "coalesce(s.quota_bytes, -1), "
      "EXISTS (SELECT 1 FROM aces a WHERE a.space_id = s.id), "
      "s.personal, " RES_SELECT
      "FROM members m JOIN spaces s ON s.id = m.space_id AND NOT s.archived "
      "JOIN resources r ON r.parent_id = "
      "parvis_resolve(s.id, '" DAV_CAL_FOLDER "') "
      RES_CURRENT RES_PATH("'" DAV_CAL_FOLDER "/' || r.name") RES_JOINS
      "WHERE m.user_id = $1 AND "
      "cal.resource_id IS NOT NULL ORDER BY s.personal DESC, s.slug, r.name" },
    /* Changes of one name are made one transaction after another (the
     * row or its path is locked), so seq orders them. */
    { "changes_since",
      "SELECT DISTINCT ON (name) name, deleted, guarded FROM changes "
      "WHERE collection_id = $1 AND xid >= $2 ORDER BY name, seq DESC" },
    { "audit_add",
      "INSERT INTO audit (principal, client, user_agent, action, space_id, "
      "path, resource_id, revision_id, status, detail, prev_hash, row_hash) "
      "VALUES ($1, $2, $3, $4, nullif($5, 0), $6, nullif($7, 0), "
      "nullif($8, 0), $9, $10, '', '')" },
    { "revisions",
      "SELECT v.id, v.num, coalesce(u.name, ''), "
      "floor(extract(epoch FROM v.created_at))::bigint, v.size, v.content_type, "
      "encode(v.sha256, 'hex'), v.comment, v.approved FROM revisions v "
      "LEFT JOIN users u ON u.id = v.author_id WHERE v.resource_id = $1 "
      "ORDER BY v.num" },
    { "revision_time",
      "SELECT floor(extract(epoch FROM created_at))::bigint FROM revisions "
      "WHERE id = $1" },
    { "revision_restore",
      "WITH src AS (SELECT num, size, content_type, sha256 FROM revisions "
      "WHERE id = $2 AND space_id = $3), "
      "rev AS (INSERT INTO revisions (space_id, resource_id, num, author_id, "
      "size, content_type, sha256, comment) SELECT $3, $1, "
      "(SELECT coalesce(max(num), 0) + 1 FROM revisions "
      "WHERE resource_id = $1), nullif($4, 0), size, content_type, sha256, "
      "coalesce($5, 'restored from revision ' || num) FROM src "
      "RETURNING id, num, size, content_type, sha256) "
      "UPDATE resources SET current_rev = rev.id, cur_num = rev.num, "
      "cur_size = rev.size, cur_type = rev.content_type, "
      "cur_sha256 = rev.sha256, modified_at = now(), "
      "approval_state = 'draft' FROM rev WHERE resources.id = $1 "
      "RETURNING rev.id, rev.num, rev.size, rev.content_type, "
      "encode(rev.sha256, 'hex'), "
      "floor(extract(epoch FROM resources.modified_at))::bigint" },
    { "approval_set",
      /* Rejecting the revision that is approved withdraws it from the
       * published view. */
      "WITH a AS (UPDATE resources SET approval_state = $2, "
      "approved_rev = CASE WHEN $2 = 'approved' THEN current_rev "
      "WHEN $2 = 'rejected' AND approved_rev = current_rev THEN NULL "
      "ELSE approved_rev END, "
      "approved_by = CASE WHEN $2 = 'approved' THEN nullif($3, 0) "
      "WHEN $2 = 'rejected' AND approved_rev = current_rev THEN NULL "
      "ELSE approved_by END, "
      "approved_at = CASE WHEN $2 = 'approved' THEN now() "
      "WHEN $2 = 'rejected' AND approved_rev = current_rev THEN NULL "
      "ELSE approved_at END, "
      "submitted_by = CASE WHEN $2 = 'submitted' THEN nullif($3, 0) "
      "ELSE submitted_by END WHERE id = $1 RETURNING current_rev) "
      "UPDATE revisions SET approved = true FROM a "
      "WHERE revisions.id = a.current_rev AND $2 = 'approved'" },
    { "approval_comment_set",
      "UPDATE resources SET approval_comment = $2 WHERE id = $1" },
    { "published_lookup",
      "SELECT " RES_SELECT RES_FROM_PUBLISHED("$2::text")
      "WHERE r.id = parvis_resolve($1, $2) AND " PUBLISHED_ONLY },
    { "published_children",
      "SELECT " RES_SELECT RES_FROM_PUBLISHED(MEMBER_PATH)
      "WHERE r.parent_id = parvis_resolve($1, $2) AND " PUBLISHED_ONLY
      "ORDER BY r.name" },
    { "submitted",
      "SELECT " RES_COLS("parvis_path(r.id)") "WHERE r.space_id = $1 AND "
      "r.approval_state = 'submitted' AND rp.path <> '/.trash' AND "
      "rp.path NOT LIKE '/.trash/%' "
      "ORDER BY rp.path" },
    { "trash_folder",
      "INSERT INTO resources (space_id, parent_id, name, kind) "
      "SELECT $1, parvis_resolve($1, ''), '.trash', 0 "
      "ON CONFLICT (parent_id, name) DO NOTHING" },
    { "trash_entry", "SELECT '/.trash/' || nextval('trash_seq')" },
    /* The entry keeps the access control entries of the folders it was
     * deleted from, as its own: what they hid stays hidden in the trash,
     * whatever becomes of those folders (merged on one level, a deny
     * there outweighs a grant: never more than before). */
    { "trash_mark",
      "WITH e AS (UPDATE resources SET trashed_from = $3, "
      "trashed_by = nullif($4, 0), trashed_at = now() "
      "WHERE id = parvis_resolve($1, $2) RETURNING id), "
      /* The folders above where it was, but the root. */
      "up AS (SELECT parvis_resolve($1, array_to_string("
      "(string_to_array($3, '/'))[1:n], '/')) AS id FROM "
      "generate_series(2, cardinality(string_to_array($3, '/')) - 1) n) "
      "INSERT INTO aces (space_id, resource_id, principal_kind, principal_id, "
      "is_grant, privileges, position, from_trash) SELECT $1, e.id, "
      "a.principal_kind, a.principal_id, a.is_grant, a.privileges, "
      "a.position, true FROM e, aces a "
      "JOIN up ON up.id = a.resource_id WHERE a.space_id = $1" },
    /* Out of the trash, the entry drops what trash_mark gave it. */
    { "trash_aces_drop",
      "DELETE FROM aces WHERE from_trash AND space_id = $1 AND resource_id = "
      "parvis_resolve($1, $2)" },
    { "tree_has_approved",
      "SELECT EXISTS (SELECT 1 FROM parvis_subtree(parvis_resolve($1, $2)) t "
      "JOIN revisions v ON v.resource_id = t.id WHERE v.approved)" },
    /* The dead properties of a resource, as one digest. */
#define PROPS_MD5(id)                                                         \
    "(SELECT md5(coalesce(string_agg(ns || ' ' || name || ' ' || value, "     \
    "E'\\n' ORDER BY ns, name), '')) FROM props WHERE resource_id = " id ")"
    { "renamed_away_note",
      "WITH d AS (DELETE FROM renamed_away "
      "WHERE at < now() - interval '1 hour') "
      "INSERT INTO renamed_away (space_id, from_path, to_path, resource_id, "
      "rev_id, user_id, kept, doc_id, props_md5) "
      "SELECT $1::bigint, $2::text, $3::text, $4::bigint, $5::bigint, "
      "$6::bigint, $7::bigint IS NOT NULL, $7::bigint, "
      "CASE WHEN $7::bigint IS NOT NULL THEN " PROPS_MD5("$4::bigint") " END "
      "ON CONFLICT (space_id, from_path) DO UPDATE SET "
      "to_path = excluded.to_path, resource_id = excluded.resource_id, "
      "rev_id = excluded.rev_id, user_id = excluded.user_id, "
      "kept = excluded.kept, doc_id = excluded.doc_id, "
      "props_md5 = excluded.props_md5, at = now()" },
    { "renamed_away_take",
      "DELETE FROM renamed_away WHERE space_id = $1 AND from_path = $2 "
      "AND user_id = $3 AND NOT kept "
      "AND at >= now() - $4::integer * interval '1 second' "
      "RETURNING to_path, resource_id, rev_id" },
    { "disposable",
      "SELECT EXISTS (SELECT 1 FROM resources r "
      "JOIN revisions v ON v.id = r.current_rev "
      "WHERE r.id = $3 AND r.id = parvis_resolve($1, $2) "
      "AND r.approval_state = 'draft' AND NOT EXISTS (SELECT 1 FROM "
      "revisions a WHERE a.resource_id = r.id AND a.approved) "
      "AND (EXISTS (SELECT 1 FROM renamed_away k WHERE k.space_id = $1 "
      "AND k.from_path = $2 AND k.resource_id = r.id AND k.kept "
      "AND k.rev_id = r.current_rev AND k.at >= now() - interval '1 hour' "
      "AND k.props_md5 = " PROPS_MD5("r.id") " "
      "AND EXISTS (SELECT 1 FROM revisions d WHERE d.resource_id = k.doc_id "
      "AND d.sha256 = v.sha256 AND d.size = v.size)) "
      "OR ($4 AND (SELECT count(*) FROM revisions w "
      "WHERE w.resource_id = r.id) = 1 AND EXISTS (SELECT 1 FROM audit u "
      "WHERE u.space_id = $1 AND u.path = $5 AND u.resource_id = r.id "
      "AND u.action IN ('PUT', 'LOCK') AND u.status = 201))))" },
    { "receipts",
      "WITH who AS (SELECT u.name FROM members m JOIN users u "
      "ON u.id = m.user_id WHERE m.space_id = $1 UNION "
      "SELECT u.name FROM aces a JOIN users u ON a.principal_kind = 'user' "
      "AND u.id = a.principal_id WHERE a.space_id = $1 AND a.is_grant) "
      "SELECT who.name, coalesce(floor(extract(epoch FROM (SELECT min(at) "
      "FROM audit WHERE action = 'GET' AND status IN (200, 206) AND "
      "revision_id = $2 AND principal = who.name)))::bigint, 0) "
      "FROM who ORDER BY who.name" },
    { "audit_of",
      "SELECT floor(extract(epoch FROM at))::bigint, action, principal, "
      "coalesce(status, 0), coalesce(revision_id, 0), detail FROM audit "
      "WHERE space_id = $1 AND path = $2 ORDER BY id" },
    /* The mark (decision 0018) and the next transaction to start, in the
     * statement's snapshot: 'from' is its oldest running writer, or the
     * transaction after the newest that changed a member if older;
     * 'seen' counts the changes from 'from' on. */
    { "collection_mark",
      "SELECT m.f, (SELECT count(*) FROM changes WHERE collection_id = $1 "
      "AND xid >= m.f::text::xid8), m.h FROM (SELECT "
      "least(pg_snapshot_xmin(s)::text::bigint, coalesce((SELECT "
      "max(xid)::text::bigint FROM changes WHERE collection_id = $1), 0) + 1) "
      "AS f, pg_snapshot_xmax(s)::text::bigint AS h "
      "FROM pg_current_snapshot() s) m" },
    /* $2: the path and its ancestors; $3: the path; $4: also below it;
     * $5: its parent, whose depth-0 locks are wanted too, or NULL */
    { "locks_find",
      "SELECT token, root_path, depth, exclusive, owner_xml, "
      "coalesce(principal_id, 0), timeout_s, "
      "floor(extract(epoch FROM expires_at))::bigint FROM locks l "
      "WHERE space_id = $1 AND expires_at > now() AND "
      "((root_path = ANY($2::text[]) AND "
      "(depth = -1 OR root_path = $3 OR root_path = $5)) "
      "OR ($4 AND root_path >= $3 || '/' AND root_path < $3 || '0')) "
      /* A lock whose holder has lost the space (disabled, expired, no
       * longer a member nor named by an entry) binds no one. */
      "AND (l.principal_id IS NULL OR EXISTS (SELECT 1 FROM users u "
      "WHERE u.id = l.principal_id AND NOT u.disabled AND "
      "(u.expires_at IS NULL OR u.expires_at > now()) AND ("
      "EXISTS (SELECT 1 FROM members m WHERE m.space_id = l.space_id AND "
      "m.user_id = u.id) OR parvis_acl_reaches(l.space_id, u.id)))) "
      "ORDER BY root_path, created_at" },
    { "lock_create",
      "WITH gc AS (DELETE FROM locks WHERE space_id = $2 AND "
      "expires_at < now()) "
      "INSERT INTO locks (token, space_id, root_path, depth, exclusive, "
      "owner_xml, principal_id, timeout_s, expires_at) VALUES ($1, $2, $3, "
      "$4, $5, $6, nullif($7, 0), $8::integer, "
      "now() + $8::integer * interval '1 second') "
      "RETURNING floor(extract(epoch FROM expires_at))::bigint" },
    { "lock_refresh",
      "UPDATE locks SET timeout_s = $2::integer, "
      "expires_at = now() + $2::integer * interval '1 second' "
      "WHERE token = $1 AND expires_at > now() "
      "RETURNING floor(extract(epoch FROM expires_at))::bigint" },
    { "lock_remove", "DELETE FROM locks WHERE token = $1" },
    { "quota_get",
      "SELECT coalesce((SELECT sum(r.cur_size) FROM resources r "
      "WHERE r.space_id = $1), 0) - "
      "coalesce(parvis_tree_bytes(parvis_resolve($1, '/.trash')), 0), "
      "coalesce(quota_bytes, -1) FROM spaces WHERE id = $1" },
    /* NO KEY UPDATE: writers of the space wait for each other, not for
     * the KEY SHARE locks of its rows' foreign keys. */
    { "quota_lock",
      "SELECT 1 FROM spaces WHERE id = $1 FOR NO KEY UPDATE" },
    { "tree_size",
      "SELECT coalesce(sum(t.cur_size), 0), count(*) "
      "FROM parvis_subtree(parvis_resolve($1, $2)) t" },
    { "mtime_set",
      "UPDATE resources SET modified_at = to_timestamp($2) WHERE id = $1" },
};

bool
pg_prepare_stmts(PGconn *pg, const struct pg_stmt *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        PGresult *r = PQprepare(pg, list[i].name, list[i].sql, 0, NULL);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            log_msg(LOG_ERROR, NULL, PQresultErrorMessage(r),
                    "cannot prepare statement %s", list[i].name);
        PQclear(r);
        if (!ok)
            return false;
    }
    return true;
}

bool
pg_prepare_all(PGconn *pg)
{
    return pg_prepare_stmts(pg, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

/*
 * The connection is gone, or the statement failed inside libpq (no SQLSTATE
 * from the server).  PQstatus alone does not tell: when the server closed
 * the socket after a notice (an immediate shutdown), libpq reports the
 * failed write of the next statement with the connection still
 * CONNECTION_OK, until a later read meets the end of the stream.
 */
static bool
conn_broken(PGconn *pg, const PGresult *r)
{
    if (PQstatus(pg) != CONNECTION_OK)
        return true;
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return false;
    return r == NULL || PQresultErrorField(r, PG_DIAG_SQLSTATE) == NULL;
}

enum dav_store_rc
pg_result_rc(struct db_conn *c, const PGresult *r, const char *what,
             const char *reqid)
{
    const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE)
                                  : NULL;
    const char *msg = r != NULL ? PQresultErrorMessage(r)
                                : PQerrorMessage(c->pg);
    if (state == NULL)
        c->reopen = true;   /* failed in libpq: not to be used again */
    if (state != NULL && strcmp(state, "23505") == 0)
        return DAV_STORE_EXISTS;
    if (state != NULL && strcmp(state, "23503") == 0)
        return DAV_STORE_CONFLICT;
    char detail[512];
    snprintf(detail, sizeof(detail), "SQLSTATE %s: %s",
             state != NULL ? state : "-", msg != NULL ? msg : "");
    size_t l = strlen(detail);
    while (l > 0 && detail[l - 1] == '\n')
        detail[--l] = '\0';
    if (state != NULL &&
        (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)) {
        log_msg(LOG_INFO, reqid, detail, "transaction conflict in %s", what);
        return DAV_STORE_RETRY;
    }
    if (state != NULL && strcmp(state, "25006") == 0) {
        /* The server takes no writes: fenced while this connection stayed
         * open, unseen at BEGIN (before PostgreSQL 14 a server does not
         * report it), or read-only from the start (a dsn without
         * target_session_attrs=read-write).  Give the connection up so
         * that the next lease looks for the primary again. */
        c->reopen = true;
        log_msg(LOG_ERROR, reqid, detail, "database server is read-only "
                                          "in %s", what);
        return DAV_STORE_ERROR;
    }
    log_msg(LOG_ERROR, reqid, detail, "database error in %s", what);
    return DAV_STORE_ERROR;
}

/* ---- pool ------------------------------------------------------------------- */

struct db_pool *
db_pool_create(const char *dsn, unsigned size)
{
    struct db_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        core_fatal("out of memory");
    p->dsn = strdup(dsn);
    p->size = size;
    p->conns = calloc(size, sizeof(*p->conns));
    p->busy = calloc(size, sizeof(*p->busy));
    if (p->dsn == NULL || p->conns == NULL || p->busy == NULL)
        core_fatal("out of memory");
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->chunks = chunk_cache_create(CHUNK_CACHE_BYTES);
    p->stamps = stamp_source_create();
    return p;
}

bool
db_pool_cache_dir(struct db_pool *p, const char *dir, uint64_t budget,
                  char *err, size_t errlen)
{
    p->disk = disk_cache_open(dir, budget, err, errlen);
    return p->disk != NULL;
}

/* Keep a chunk in the cache it belongs to. */
static void
cache_chunk(struct db_pool *p, int64_t space_id,
            const unsigned char sha256[32], const void *data, size_t len)
{
    if (len <= CHUNK_CACHE_MAX_CHUNK)
        chunk_cache_put(p->chunks, space_id, sha256, data, len);
    else
        disk_cache_put(p->disk, space_id, sha256, data, len);
}

void
db_pool_set_sealer(struct db_pool *p, struct db_sealer *s)
{
    p->sealer = s;
}

void
db_pool_destroy(struct db_pool *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i < p->size; i++)
        if (p->conns[i].pg != NULL)
            PQfinish(p->conns[i].pg);
    chunk_cache_destroy(p->chunks);
    disk_cache_close(p->disk);
    stamp_source_destroy(p->stamps);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->conns);
    free(p->busy);
    free(p->dsn);
    free(p);
}

/*
 * Does the server take no writes now: a hot standby, or a primary fenced
 * with default_transaction_read_only?  PostgreSQL 14 and later report both
 * settings at connection and whenever they change (a promotion, a reload),
 * so this reads libpq's copy and costs no round trip; an older server
 * reports neither and this is false.
 */
static bool
read_only_now(PGconn *pg)
{
    const char *hs = PQparameterStatus(pg, "in_hot_standby");
    const char *ro = PQparameterStatus(pg, "default_transaction_read_only");
    return (hs != NULL && strcmp(hs, "on") == 0) ||
           (ro != NULL && strcmp(ro, "on") == 0);
}

static time_t
monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/*
 * Listings read their cursor to the end (pg_children_open): the planner
 * is to plan cursors for all their rows, not for a fast first tenth (the
 * default), which prefers probing an index per member to hashing.  No
 * statement here runs long enough to repay compiling it: a COPY of a
 * tree, whose recursive query the planner costs high, spent 0.3 s in JIT
 * compilation for 0.03 s of work.
 */
static bool
session_settings(PGconn *pg)
{
    PGresult *r = PQexec(pg, "SET cursor_tuple_fraction = 1.0; SET jit = off");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
        log_msg(LOG_ERROR, NULL, PQerrorMessage(pg),
                "cannot apply the session settings");
    return ok;
}

static bool
conn_open(struct db_pool *p, struct db_conn *c, const char *reqid)
{
    if (c->pg != NULL)
        PQfinish(c->pg);
    c->pg = PQconnectdb(p->dsn);
    c->prepared = false;
    if (PQstatus(c->pg) != CONNECTION_OK) {
        char detail[512];
        snprintf(detail, sizeof(detail), "%s", PQerrorMessage(c->pg));
        size_t l = strlen(detail);
        while (l > 0 && detail[l - 1] == '\n')
            detail[--l] = '\0';
        log_msg(LOG_ERROR, reqid, detail, "cannot connect to the database");
        PQfinish(c->pg);
        c->pg = NULL;
        return false;
    }
    if (!pg_prepare_all(c->pg) || !pg_caldav_prepare_all(c->pg) ||
        !session_settings(c->pg)) {
        PQfinish(c->pg);
        c->pg = NULL;
        return false;
    }
    int sndbuf = AHEAD_SNDBUF;
    (void)setsockopt(PQsocket(c->pg), SOL_SOCKET, SO_SNDBUF, &sndbuf,
                     sizeof(sndbuf));
    c->prepared = true;
    c->opened_read_only = read_only_now(c->pg);
    c->reopen = false;
    c->planned_at = monotonic_seconds();
    c->plan_interval = 1;
    return true;
}

/* ---- the database's state, shared ----------------------------------------------- */

static struct stamp_source *
stamp_source_create(void)
{
    struct stamp_source *s = calloc(1, sizeof(*s));
    if (s == NULL)
        core_fatal("out of memory");
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

static void
stamp_source_destroy(struct stamp_source *s)
{
    if (s->pg != NULL)
        PQfinish(s->pg);
    free(s->text);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* How long a read waits for the statement, and the statement for its
 * answer, before the read goes on without (a miss): a connection cut
 * without a word must not hold every read of the node. */
#define STAMP_WAIT_MS 1000

/* Milliseconds left of STAMP_WAIT_MS from t0 (CLOCK_MONOTONIC). */
static long
stamp_ms_left(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return STAMP_WAIT_MS - ((t.tv_sec - t0->tv_sec) * 1000 +
                            (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* The source's connection given up; no new one for a second. */
static void
stamp_drop(struct stamp_source *s, const char *why)
{
    /* Said once, not each second while the database stays away. */
    if (!s->warned)
        log_msg(LOG_WARN, NULL, why, "cannot read the database's state");
    s->warned = true;
    if (s->pg != NULL)
        PQfinish(s->pg);
    s->pg = NULL;
    s->failed_at = monotonic_seconds();
}

/* The statement's result within STAMP_WAIT_MS, or NULL. */
static PGresult *
stamp_result(PGconn *pg)
{
    if (!PQsendQueryPrepared(pg, "stamp", 0, NULL, NULL, NULL, 0))
        return NULL;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (PQisBusy(pg)) {
        long left = stamp_ms_left(&t0);
        struct pollfd pfd = { .fd = PQsocket(pg), .events = POLLIN };
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0 ||
            !PQconsumeInput(pg))
            return NULL;
    }
    PGresult *r = PQgetResult(pg);
    PGresult *more;
    while ((more = PQgetResult(pg)) != NULL)
        PQclear(more);
    return r;
}

/* The statement, on the source's connection (opened if need be; not
 * again within a second of a failure), by the one runner: a malloc'd
 * snapshot text and the database's clock, or NULL.  A server that takes
 * no writes (a standby, a primary fenced for a switchover) gives none:
 * its snapshot stays the same while the new primary changes. */
static char *
stamp_read(struct db_pool *p, struct stamp_source *s, int64_t *db_now)
{
    if (s->pg == NULL) {
        if (s->failed_at != 0 && monotonic_seconds() - s->failed_at < 1)
            return NULL;
        s->pg = PQconnectdb(p->dsn);
        PGresult *r = PQstatus(s->pg) == CONNECTION_OK
                          ? PQprepare(s->pg, "stamp",
                                      "SELECT " LISTING_STAMP ", "
                                      "floor(extract(epoch FROM now()))"
                                      "::bigint", 0, NULL)
                          : NULL;
        bool ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) {
            char why[256];
            snprintf(why, sizeof(why), "%s", PQerrorMessage(s->pg));
            why[strcspn(why, "\n")] = '\0';
            stamp_drop(s, why);
            return NULL;
        }
    }
    PGresult *r = stamp_result(s->pg);
    char *text = NULL;
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok && !PQgetisnull(r, 0, 0) && !read_only_now(s->pg)) {
        text = strdup(PQgetvalue(r, 0, 0));
        *db_now = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    }
    PQclear(r);
    /* Gone, failing, late or read-only: a fresh connection next time
     * (through a multi-host dsn, to the new primary). */
    if (!ok || read_only_now(s->pg))
        stamp_drop(s, ok ? "the server takes no writes" : "no answer");
    else
        s->warned = false;
    return text;
}

/* Number 'text' (taking it): the current number if it is the text
 * numbered last, else the next one.  Called with the lock held.  Two texts
 * never share a number; a text seen again after another gets a new one,
 * which only costs entries. */
static uint64_t
stamp_number(struct stamp_source *s, char *text)
{
    if (s->text != NULL && strcmp(s->text, text) == 0) {
        free(text);
        return s->text_gen;
    }
    free(s->text);
    s->text = text;
    return ++s->text_gen;
}

/* Run the statement for every ticket given so far, and publish. */
static void
stamp_run(struct db_pool *p, struct stamp_source *s)
{
    uint64_t covers = atomic_load(&s->asked);
    int64_t db_now = 0;
    char *text = stamp_read(p, s, &db_now);
    uint64_t gen = 0;
    if (text != NULL) {
        pthread_mutex_lock(&s->lock);
        gen = stamp_number(s, text);
        pthread_mutex_unlock(&s->lock);
    }
    atomic_store(&s->db_now, db_now);
    atomic_store(&s->gen, gen);
    atomic_store(&s->answered, covers);
    /* Before the wake: a reader woken finds no runner and may run. */
    atomic_store(&s->running, false);
    atomic_fetch_add(&s->epoch, 1);
    syscall(SYS_futex, &s->epoch, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static const char *
gen_name(struct dav_req *req, uint64_t gen)
{
    return gen == 0 ? NULL : arena_printf(req->arena, "%" PRIu64, gen);
}

/* dav_store.h stamp_now. */
static const char *
pg_stamp_now(struct dav_req *req, time_t *db_now)
{
    struct db_pool *p = req->srv->store_ctx;
    struct stamp_source *s = p->stamps;
    uint64_t mine = atomic_fetch_add(&s->asked, 1) + 1;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        unsigned epoch = atomic_load(&s->epoch);
        if (atomic_load(&s->answered) >= mine)
            break;
        bool idle = false;
        if (atomic_compare_exchange_strong(&s->running, &idle, true)) {
            stamp_run(p, s);
            continue;
        }
        long left = stamp_ms_left(&t0);
        if (left <= 0)
            return NULL;
        struct timespec wait = { left / 1000, (left % 1000) * 1000000 };
        /* Returns at once if an answer came since 'epoch' was read. */
        syscall(SYS_futex, &s->epoch, FUTEX_WAIT_PRIVATE, epoch, &wait, NULL,
                0);
    }
    *db_now = (time_t)atomic_load(&s->db_now);
    return gen_name(req, atomic_load(&s->gen));
}

/* dav_store.h stamp_of. */
static const char *
pg_stamp_of(struct dav_req *req, const char *snapshot)
{
    struct db_pool *p = req->srv->store_ctx;
    struct stamp_source *s = p->stamps;
    char *text = snapshot != NULL ? strdup(snapshot) : NULL;
    if (text == NULL)
        return NULL;
    pthread_mutex_lock(&s->lock);
    uint64_t gen = stamp_number(s, text);
    pthread_mutex_unlock(&s->lock);
    return gen_name(req, gen);
}

/* dav_store.h read_whole. */
static bool
pg_read_whole(struct dav_req *req)
{
    struct lease *l = req->store_conn;
    return l != NULL && l->c != NULL && l->c->pg != NULL &&
           l->failed == DAV_STORE_OK && !read_only_now(l->c->pg);
}

/* Plans made again when they are older than the connection's interval
 * (1, 2, 4, ... PLAN_SECONDS): the tables may have grown since.  A failure
 * shows on the lease's first statement. */
static void
plans_refresh(struct db_conn *c)
{
    time_t now = monotonic_seconds();
    if (now - c->planned_at < c->plan_interval)
        return;
    PGresult *r = PQexec(c->pg, "DISCARD PLANS");
    PQclear(r);
    c->planned_at = now;
    c->plan_interval = c->plan_interval * 2 < PLAN_SECONDS
                           ? c->plan_interval * 2
                           : PLAN_SECONDS;
}

static bool settle(struct lease *l, PGresult **fail);

/* Writes sent ahead by a request that ends without reading them: read
 * and dropped, before the ROLLBACK. */
static void
discard_ahead(struct lease *l)
{
    PGresult *fail;
    if (l->c != NULL && l->c->pg != NULL && !settle(l, &fail))
        PQclear(fail);
    l->nahead = 0;
}

static void
lease_release(void *obj)
{
    struct lease *l = obj;
    disk_cache_fill_end(l->fill, false, 0, NULL, 0);
    l->fill = NULL;
    l->nlater = 0;
    l->pre_path = NULL;
    discard_ahead(l);
    for (unsigned i = 0; i < DEFER_MAX; i++) {
        free(l->later[i].buf);
        l->later[i].buf = NULL;
        l->later[i].cap = 0;
    }
    if (l->c == NULL)
        return;
    struct db_pool *p = l->pool;
    if (l->c->pg != NULL &&
        PQtransactionStatus(l->c->pg) != PQTRANS_IDLE) {
        /* A lease given back mid-transaction: the request died.  Roll back
         * so that nothing half-done is ever committed. */
        PGresult *r = PQexec(l->c->pg, "ROLLBACK");
        PQclear(r);
        if (PQstatus(l->c->pg) != CONNECTION_OK ||
            PQtransactionStatus(l->c->pg) != PQTRANS_IDLE) {
            PQfinish(l->c->pg);
            l->c->pg = NULL;
        }
    }
    /* A server that stopped taking writes (a switchover fenced it, as
     * its last answers said): the next lease finds the new primary. */
    if (l->c->pg != NULL && !l->c->opened_read_only &&
        read_only_now(l->c->pg))
        l->c->reopen = true;
    if (l->c->pg != NULL && l->c->reopen) {
        PQfinish(l->c->pg);
        l->c->pg = NULL;
    }
    l->c->reopen = false;
    pthread_mutex_lock(&p->lock);
    p->busy[l->idx] = false;
    /* Every waiter looks: an upload may not take the last connection
     * that another request could. */
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    l->c = NULL;
}

/* Lease a connection for the request (kept in req->store_conn). */
static enum dav_store_rc
lease_get(struct dav_req *req, struct lease **out)
{
    struct db_pool *p = req->srv->store_ctx;
    struct lease *l = req->store_conn;
    if (l != NULL && l->c != NULL) {
        *out = l;
        return DAV_STORE_OK;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += POOL_WAIT_SECONDS;
    /* An upload holds its connection while the client sends the body, as
     * slowly as it likes: uploads never take the last free connection,
     * which stays for every other request. */
    bool upload = req->mdef != NULL &&
                  (req->mdef->flags & DAV_M_BODY_STREAM) != 0 && p->size > 1;
    pthread_mutex_lock(&p->lock);
    unsigned idx = p->size;
    for (;;) {
        unsigned nfree = 0;
        for (unsigned i = 0; i < p->size; i++) {
            if (!p->busy[i]) {
                if (nfree++ == 0)
                    idx = i;
            }
        }
        if (nfree < (upload ? 2u : 1u))
            idx = p->size;
        if (idx < p->size)
            break;
        if (pthread_cond_timedwait(&p->cond, &p->lock, &until) == ETIMEDOUT)
            break;
    }
    if (idx < p->size)
        p->busy[idx] = true;
    pthread_mutex_unlock(&p->lock);
    if (idx == p->size) {
        log_msg(LOG_ERROR, req->id, NULL, "no database connection free");
        return DAV_STORE_ERROR;
    }
    if (l == NULL) {
        l = arena_alloc(req->arena, sizeof(*l));
        arena_defer(req->arena, lease_release, l);
        req->store_conn = l;
    }
    l->autocommit = false;
    l->used = false;
    l->audited = false;
    l->pre_path = NULL;
    l->nahead = 0;
    l->failed = DAV_STORE_OK;
    l->pool = p;
    l->idx = idx;
    l->c = &p->conns[idx];
    if (l->c->pg == NULL || PQstatus(l->c->pg) != CONNECTION_OK) {
        if (!conn_open(p, l->c, req->id)) {
            lease_release(l);
            return DAV_STORE_ERROR;
        }
    } else {
        plans_refresh(l->c);
    }
    *out = l;
    return DAV_STORE_OK;
}

static void
pgresult_free_cb(void *r)
{
    PQclear(r);
}

/* Keep a write for the lease's next round trip (struct deferred); false
 * when it cannot wait (no transaction open, another write already waits,
 * too large): the caller runs it now. */
static bool
defer_stmt(struct lease *l, const char *stmt, int n, const char *const *vals,
           const int *lens)
{
    if (l->autocommit || l->nlater == DEFER_MAX || n > DEFER_MAX_PARAMS)
        return false;
    struct deferred *d = &l->later[l->nlater];
    size_t need = 0;
    for (int i = 0; i < n; i++)
        if (vals[i] != NULL)
            need += lens != NULL && lens[i] > 0 ? (size_t)lens[i]
                                                : strlen(vals[i]) + 1;
    if (need > DEFER_MAX_BYTES)
        return false;
    if (need > d->cap) {
        size_t cap = need < 4096 ? 4096 : need;
        char *nb = realloc(d->buf, cap);
        if (nb == NULL)
            return false;
        d->buf = nb;
        d->cap = cap;
    }
    char *p = d->buf;
    for (int i = 0; i < n; i++) {
        bool bin = lens != NULL && lens[i] > 0;
        d->fmts[i] = bin ? 1 : 0;
        d->lens[i] = bin ? lens[i] : 0;
        d->vals[i] = NULL;
        if (vals[i] == NULL)
            continue;
        size_t len = bin ? (size_t)lens[i] : strlen(vals[i]) + 1;
        memcpy(p, vals[i], len);
        d->vals[i] = p;
        p += len;
    }
    d->n = n;
    d->stmt = stmt;
    l->nlater++;
    return true;
}

/* Send the waiting writes, in order, in pipeline mode (entered). */
static bool
send_later(struct lease *l)
{
    PGconn *pg = l->c->pg;
    bool ok = true;
    for (unsigned i = 0; i < l->nlater && ok; i++) {
        const struct deferred *d = &l->later[i];
        ok = PQsendQueryPrepared(pg, d->stmt, d->n, d->vals, d->lens, d->fmts,
                                 0);
    }
    return ok;
}

/* The next result of a pipeline, the NULL that ends it consumed. */
static PGresult *
pipeline_next(PGconn *pg)
{
    PGresult *r = PQgetResult(pg);
    if (r != NULL && PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
        PGresult *end = PQgetResult(pg);
        PQclear(end);
    }
    return r;
}

/*
 * Read the results of the oldest group of writes sent ahead, and its
 * sync: true if they all succeeded; else *fail (NULL on entry) is the
 * first that failed (NULL if the connection did), unless one failed
 * before, and the others are discarded.  Pipeline mode stays on.
 */
static bool
settle_oldest(struct lease *l, PGresult **fail)
{
    PGconn *pg = l->c->pg;
    bool ok = true;
    for (unsigned i = 0; i < l->ahead[0]; i++) {
        PGresult *r = pipeline_next(pg);
        ExecStatusType st = PQresultStatus(r);
        if (r == NULL || (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)) {
            if (ok && *fail == NULL)
                *fail = r;
            else
                PQclear(r);
            ok = false;
        } else {
            PQclear(r);
        }
    }
    PGresult *sync = PQgetResult(pg);
    PQclear(sync);
    l->nahead--;
    memmove(l->ahead, l->ahead + 1, l->nahead * sizeof(l->ahead[0]));
    return ok;
}

/*
 * Read the results of all the writes sent ahead, and leave pipeline mode:
 * true if they all succeeded; else *fail is the first result that failed
 * (NULL if the connection did) and the others are discarded.
 */
static bool
settle(struct lease *l, PGresult **fail)
{
    *fail = NULL;
    if (l->nahead == 0)
        return true;
    bool ok = true;
    while (l->nahead > 0)
        ok = settle_oldest(l, fail) && ok;
    if (!PQexitPipelineMode(l->c->pg))
        l->c->reopen = true;    /* results left unread: give it up */
    return ok;
}

/*
 * Send the deferred write (if any) and the write 'stmt' in pipeline mode,
 * as one group ended by a sync, without waiting for their results:
 * PostgreSQL executes them while the request goes on (reads the next
 * piece of an upload), and the lease's next statement reads them first
 * (settle).  Up to AHEAD_MAX groups are in flight: the oldest results are
 * read before a group more is sent.  False if they could not be sent (the
 * connection is then closed), or if a group read failed (*fail, as
 * settle_oldest gives it).
 */
static bool
send_ahead(struct lease *l, const char *stmt, int n, const char *const *vals,
           const int *lens, const int *fmts, PGresult **fail)
{
    PGconn *pg = l->c->pg;
    *fail = NULL;
    while (l->nahead >= AHEAD_MAX)
        if (!settle_oldest(l, fail))
            return false;
    unsigned waiting = l->nlater;
    bool ok = PQenterPipelineMode(pg) && send_later(l) &&
              PQsendQueryPrepared(pg, stmt, n, vals, lens, fmts, 0) &&
              PQpipelineSync(pg) && PQflush(pg) == 0;
    l->nlater = 0;
    if (!ok) {
        /* Some sent, some not, maybe no sync: no result can be trusted
         * to come. */
        PQfinish(pg);
        l->c->pg = NULL;
        l->nahead = 0;
        return false;
    }
    l->ahead[l->nahead++] = waiting + 1;
    return true;
}

/*
 * Run one statement on the lease: the prepared 'stmt', or 'sql' when stmt
 * is NULL.  Writes sent ahead are read first, and a deferred write goes
 * first, in the same round trip; if one of them failed, the statement is
 * skipped and the write's result is returned, with *what (unless NULL)
 * set to its name.  NULL if the connection failed.
 */
static PGresult *
lease_exec(struct lease *l, const char *stmt, const char *sql, int n,
           const char *const *vals, const int *lens, const int *fmts,
           int resfmt, const char **what)
{
    PGconn *pg = l->c->pg;
    const char *ignored;
    if (what == NULL)
        what = &ignored;
    *what = stmt != NULL ? stmt : sql;
    /* A parent read with its child stands for the lookup that follows
     * at once, not for one after anything else has run. */
    l->pre_path = NULL;
    PGresult *fail;
    if (!settle(l, &fail)) {
        *what = "chunk_put";
        return fail;
    }
    if (l->nlater == 0)
        return stmt != NULL
                   ? PQexecPrepared(pg, stmt, n, vals, lens, fmts, resfmt)
                   : PQexecParams(pg, sql, n, NULL, vals, lens, fmts, resfmt);
    unsigned waiting = l->nlater;
    l->nlater = 0;
    if (!PQenterPipelineMode(pg)) {
        *what = l->later[0].stmt;
        return NULL;
    }
    /* The waiting writes' results, then the statement's; a failed write
     * is returned in its place (those after it were skipped). */
    l->nlater = waiting;
    bool sent =
        send_later(l) &&
        (stmt != NULL
             ? PQsendQueryPrepared(pg, stmt, n, vals, lens, fmts, resfmt)
             : PQsendQueryParams(pg, sql, n, NULL, vals, lens, fmts,
                                 resfmt)) &&
        PQpipelineSync(pg);
    l->nlater = 0;
    PGresult *failed = NULL, *last = NULL;
    if (sent) {
        for (unsigned i = 0; i <= waiting; i++) {
            PGresult *r = pipeline_next(pg);
            ExecStatusType st = PQresultStatus(r);
            bool bad = r == NULL ||
                       (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK);
            if (i < waiting && bad && failed == NULL && r != NULL) {
                *what = l->later[i].stmt;
                failed = r;
            } else if (i == waiting) {
                last = r;
            } else {
                PQclear(r);
            }
        }
        PGresult *sync = PQgetResult(pg);
        PQclear(sync);
    } else {
        *what = l->later[0].stmt;
    }
    if (!PQexitPipelineMode(pg))
        l->c->reopen = true;    /* results left unread: give it up */
    if (failed != NULL) {
        PQclear(last);
        return failed;
    }
    return last;
}

/*
 * Run a prepared statement on the request's lease.  Text parameters unless
 * 'lens' is given (then binary where lens[i] > 0).  The result belongs to
 * 'a' (pg_run: req->arena).  NULL with *rc set on failure.
 */
PGresult *
pg_run_in(struct dav_req *req, struct arena *a, const char *stmt, int n,
          const char *const *vals, const int *lens, int resfmt,
          enum dav_store_rc *rc)
{
    struct lease *l = req->store_conn;
    *rc = DAV_STORE_OK;
    if (l == NULL || l->c == NULL || l->c->pg == NULL) {
        *rc = DAV_STORE_ERROR;
        return NULL;
    }
    int fmts[16];
    for (int i = 0; i < n && i < 16; i++)
        fmts[i] = lens != NULL && lens[i] > 0 ? 1 : 0;
    const char *what;
    PGresult *r =
        lease_exec(l, stmt, NULL, n, vals, lens, fmts, resfmt, &what);
    if (l->autocommit && !l->used && conn_broken(l->c->pg, r)) {
        /* The server went away under an idle connection: without a BEGIN
         * to find out, the first read of the lease finds out; it changed
         * nothing, so it is run again on a fresh connection. */
        log_msg(LOG_INFO, req->id, NULL, "database connection lost, "
                                         "reconnecting");
        PQclear(r);
        PQfinish(l->c->pg);
        l->c->pg = NULL;
        l->used = true;
        if (!conn_open(l->pool, l->c, req->id)) {
            *rc = DAV_STORE_ERROR;
            return NULL;
        }
        r = PQexecPrepared(l->c->pg, stmt, n, vals, lens, fmts, resfmt);
    }
    l->used = true;
    arena_defer(a, pgresult_free_cb, r);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        *rc = pg_result_rc(l->c, r, what, req->id);
        if (l->failed == DAV_STORE_OK)
            l->failed = *rc;
        return NULL;
    }
    return r;
}

PGresult *
pg_run(struct dav_req *req, const char *stmt, int n, const char *const *vals,
    const int *lens, int resfmt, enum dav_store_rc *rc)
{
    return pg_run_in(req, req->arena, stmt, n, vals, lens, resfmt, rc);
}

enum dav_store_rc
pg_run_first(struct dav_req *req, const char *stmt, int n,
             const char *const *vals)
{
    struct lease *l = req->store_conn;
    if (l != NULL && l->c != NULL && l->c->pg != NULL &&
        defer_stmt(l, stmt, n, vals, NULL))
        return DAV_STORE_OK;
    enum dav_store_rc rc;
    pg_run(req, stmt, n, vals, NULL, 0, &rc);
    return rc;
}

/* ---- transactions ------------------------------------------------------------ */

static enum dav_store_rc
pg_txn_begin(struct dav_req *req)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        struct lease *l;
        enum dav_store_rc rc = lease_get(req, &l);
        if (rc != DAV_STORE_OK)
            return rc;
        PGresult *r = PQexec(l->c->pg, "BEGIN");
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok && !conn_broken(l->c->pg, r)) {
            enum dav_store_rc fail = pg_result_rc(l->c, r, "begin", req->id);
            PQclear(r);
            return fail;
        }
        PQclear(r);
        if (ok && attempt == 0 && !l->c->opened_read_only &&
            read_only_now(l->c->pg)) {
            /* The server stopped taking writes after we connected: a
             * planned switchover fenced it.  A fresh connection finds the
             * new primary through a multi-host dsn with
             * target_session_attrs=read-write, or fails until there is
             * one.  (The server told us with BEGIN's answer: an idle
             * session applies a reload before its next statement.) */
            log_msg(LOG_INFO, req->id, NULL, "database server became "
                                             "read-only, reconnecting");
            PQfinish(l->c->pg);
            l->c->pg = NULL;
            lease_release(l);
            continue;
        }
        if (ok)
            return DAV_STORE_OK;
        /* The server went away under an idle connection: reopen. */
        log_msg(LOG_INFO, req->id, NULL, "database connection lost, "
                                         "reconnecting");
        PQfinish(l->c->pg);
        l->c->pg = NULL;
        lease_release(l);
    }
    return DAV_STORE_ERROR;
}

/* A lease for reads, without BEGIN (dav_store.h read_begin). */
static enum dav_store_rc
pg_read_begin(struct dav_req *req)
{
    struct lease *l;
    enum dav_store_rc rc = lease_get(req, &l);
    if (rc != DAV_STORE_OK)
        return rc;
    l->autocommit = true;
    l->used = false;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_txn_commit(struct dav_req *req)
{
    struct lease *l = req->store_conn;
    if (l == NULL || l->c == NULL)
        return DAV_STORE_ERROR;
    if (l->autocommit) {
        l->autocommit = false;
        lease_release(l);
        return DAV_STORE_OK;
    }
    /* A deferred write (the request's audit row) goes with the COMMIT;
     * if it fails, the transaction is left aborted and lease_release
     * rolls it back. */
    const char *what;
    PGresult *r = lease_exec(l, NULL, "COMMIT", 0, NULL, NULL, NULL, 0, &what);
    enum dav_store_rc rc = DAV_STORE_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = pg_result_rc(l->c, r, strcmp(what, "COMMIT") == 0 ? "commit"
                                                                : what,
                          req->id);
    } else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        /* A statement failed before and the request went on (a property
         * left out): the server rolled back, answering ROLLBACK to the
         * COMMIT.  It fails as that statement did. */
        log_msg(LOG_ERROR, req->id, PQcmdStatus(r),
                "transaction rolled back at its commit");
        rc = l->failed != DAV_STORE_OK ? l->failed : DAV_STORE_ERROR;
    }
    PQclear(r);
    if (rc == DAV_STORE_OK && l->audited)
        db_sealer_poke(l->pool->sealer);
    lease_release(l);
    return rc;
}

static void
pg_txn_rollback(struct dav_req *req)
{
    struct lease *l = req->store_conn;
    if (l == NULL || l->c == NULL)
        return;
    if (l->autocommit) {
        l->autocommit = false;
        lease_release(l);
        return;
    }
    l->nlater = 0;              /* a deferred write goes with the rest */
    discard_ahead(l);
    if (l->c->pg != NULL) {
        PGresult *r = PQexec(l->c->pg, "ROLLBACK");
        PQclear(r);
    }
    lease_release(l);
}

/* ---- helpers ------------------------------------------------------------------- */

const char *
pg_i64(struct dav_req *req, int64_t v)
{
    return arena_printf(req->arena, "%lld", (long long)v);
}

int64_t
pg_col_i64(const PGresult *r, int row, int col)
{
    /* PostgreSQL writes integers as an optional '-' and digits: read by
     * hand, a listing reads a dozen per member (strtoll, with its locale
     * and base handling, was a tenth of parvisd's CPU in one). */
    const char *s = PQgetvalue(r, row, col);
    bool neg = *s == '-';
    s += neg;
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    if (*s != '\0')
        return strtoll(PQgetvalue(r, row, col), NULL, 10);
    return neg ? (int64_t)(0 - v) : (int64_t)v;
}

static const char *
col_str(struct arena *a, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    return arena_strndup(a, PQgetvalue(r, row, col),
                         (size_t)PQgetlength(r, row, col));
}

/* The value of each hex digit (0 for any other byte). */
static const unsigned char hex_value[256] = {
    ['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4,
    ['5'] = 5, ['6'] = 6, ['7'] = 7, ['8'] = 8, ['9'] = 9,
    ['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13, ['e'] = 14, ['f'] = 15,
    ['A'] = 10, ['B'] = 11, ['C'] = 12, ['D'] = 13, ['E'] = 14, ['F'] = 15,
};

void
pg_hex_decode32(const char *hex, unsigned char out[32])
{
    if (hex == NULL || strnlen(hex, 65) != 64) {
        memset(out, 0, 32);
        return;
    }
    const unsigned char *h = (const unsigned char *)hex;
    for (int i = 0; i < 32; i++)
        out[i] = (unsigned char)(hex_value[h[2 * i]] << 4 |
                                 hex_value[h[2 * i + 1]]);
}

/* A resource from the RES_SELECT columns starting at column 'c'. */
static void
row_to_res_at(struct arena *a, const PGresult *r, int row, int c,
              struct dav_resource *out)
{
    memset(out, 0, sizeof(*out));
    out->id = pg_col_i64(r, row, c + 0);
    out->space_id = pg_col_i64(r, row, c + 1);
    out->path = col_str(a, r, row, c + 2);
    out->name = col_str(a, r, row, c + 3);
    out->kind = pg_col_i64(r, row, c + 4) == 0 ? DAV_KIND_COLLECTION
                                             : DAV_KIND_FILE;
    out->rev_id = pg_col_i64(r, row, c + 5);
    out->rev_num = (int32_t)pg_col_i64(r, row, c + 6);
    out->size = pg_col_i64(r, row, c + 7);
    out->content_type = col_str(a, r, row, c + 8);
    if (!PQgetisnull(r, row, c + 9))
        pg_hex_decode32(PQgetvalue(r, row, c + 9), out->sha256);
    out->created = (time_t)pg_col_i64(r, row, c + 10);
    out->modified = (time_t)pg_col_i64(r, row, c + 11);
    out->created_by = pg_col_i64(r, row, c + 12);
    out->created_by_name = col_str(a, r, row, c + 13);
    out->subtype = (int)pg_col_i64(r, row, c + 14);
    out->components = col_str(a, r, row, c + 15);
    out->approval_state = col_str(a, r, row, c + 16);
    out->approval_comment = col_str(a, r, row, c + 17);
    out->approved_rev = pg_col_i64(r, row, c + 18);
    out->approved_by = col_str(a, r, row, c + 19);
    out->approved_at = (time_t)pg_col_i64(r, row, c + 20);
    out->trashed_from = col_str(a, r, row, c + 21);
    out->trashed_by = col_str(a, r, row, c + 22);
    out->trashed_at = (time_t)pg_col_i64(r, row, c + 23);
}

static void
row_to_res(struct arena *a, const PGresult *r, int row,
           struct dav_resource *out)
{
    row_to_res_at(a, r, row, 0, out);
}

static void
split_path(struct dav_req *req, const char *path, const char **parent,
           const char **name)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash != NULL ? (size_t)(slash - path) : 0;
    *parent = arena_strndup(req->arena, path, n);
    *name = slash != NULL ? slash + 1 : path;
}

/* ---- operations ------------------------------------------------------------------ */

static enum dav_store_rc
pg_user_by_name(struct dav_req *req, const char *name, struct dav_user *out)
{
    enum dav_store_rc rc;
    const char *v[1] = { name };
    PGresult *r = pg_run(req, "user_by_name", 1, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0)
        return DAV_STORE_NOTFOUND;
    out->id = pg_col_i64(r, 0, 0);
    out->name = col_str(req->arena, r, 0, 1);
    out->password_hash = col_str(req->arena, r, 0, 2);
    out->display_name = col_str(req->arena, r, 0, 3);
    out->email = col_str(req->arena, r, 0, 4);
    out->disabled = PQgetvalue(r, 0, 5)[0] == 't';
    out->guest = PQgetvalue(r, 0, 6)[0] == 't';
    out->expires = (time_t)pg_col_i64(r, 0, 7);
    return DAV_STORE_OK;
}

static void
row_to_space(struct arena *a, const PGresult *r, int row,
             struct dav_space *out)
{
    out->id = pg_col_i64(r, row, 0);
    out->slug = col_str(a, r, row, 1);
    out->title = col_str(a, r, row, 2);
    out->role = col_str(a, r, row, 3);
    out->created = (time_t)pg_col_i64(r, row, 4);
    out->quota = pg_col_i64(r, row, 5);
    out->has_aces = PQgetvalue(r, row, 6)[0] == 't';
}

static enum dav_store_rc
pg_space_for_user(struct dav_req *req, const char *slug, int64_t user_id,
                  struct dav_space *out)
{
    enum dav_store_rc rc;
    const char *v[2] = { slug, pg_i64(req, user_id) };
    PGresult *r = pg_run(req, "space_for_user", 2, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0)
        return DAV_STORE_NOTFOUND;
    row_to_space(req->arena, r, 0, out);
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_space_lookup(struct dav_req *req, const char *slug, int64_t user_id,
                int64_t app_id, const char *path, bool *principal_ok,
                struct dav_space *space, bool *space_found,
                struct dav_resource *res, bool *found)
{
    enum dav_store_rc rc;
    const char *v[4] = { slug, pg_i64(req, user_id), path,
                         pg_i64(req, app_id) };
    PGresult *r = pg_run(req, "space_lookup", 4, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) != 1)
        return DAV_STORE_ERROR;
    /* The account's validity: NULL if none, else when it ends (0: never). */
    *principal_ok = !PQgetisnull(r, 0, 7);
    req->principal_until =
        *principal_ok ? (time_t)pg_col_i64(r, 0, 7) : 0;
    *space_found = !PQgetisnull(r, 0, 0);
    *found = *space_found && !PQgetisnull(r, 0, 8);
    if (*space_found)
        row_to_space(req->arena, r, 0, space);
    if (*found)
        row_to_res_at(req->arena, r, 0, 8, res);
    /* For the listing cache (decision 0026): dav/ keeps the one taken with
     * the request's target. */
    req->store_stamp = col_str(req->arena, r, 0, PQnfields(r) - 1);
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_spaces_of_user(struct dav_req *req, int64_t user_id,
                  struct dav_space **out, size_t *n)
{
    enum dav_store_rc rc;
    const char *v[1] = { pg_i64(req, user_id) };
    PGresult *r = pg_run(req, "spaces_of_user", 1, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++)
        row_to_space(req->arena, r, i, &(*out)[i]);
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

/* The paths from the root down to 'path' ("", "/a", "/a/b" for "/a/b"),
 * as a text[] literal. */
static const char *
ancestors_array(struct dav_req *req, const char *path)
{
    struct buf b;
    buf_init(&b, req->arena, strlen(path) * 4 + 8);
    buf_puts(&b, "{\"\"");
    for (const char *p = path; *p != '\0'; p++)
        if (*p == '/' && p != path)
            pg_array_elem(&b, false, path, (size_t)(p - path));
    if (path[0] != '\0')
        pg_array_elem(&b, false, path, strlen(path));
    buf_puts(&b, "}");
    return buf_cstr(&b);
}

static enum dav_store_rc
pg_lookup(struct dav_req *req, int64_t space_id, const char *path,
          bool lock_row, struct dav_resource *out)
{
    enum dav_store_rc rc;
    const char *v[3] = { pg_i64(req, space_id), path, NULL };
    struct lease *l = req->store_conn;
    if (!lock_row && l != NULL && l->pre_path != NULL &&
        l->pre_space == space_id && strcmp(l->pre_path, path) == 0) {
        l->pre_path = NULL;
        if (!l->pre_found)
            return DAV_STORE_NOTFOUND;
        *out = l->pre_res;
        return DAV_STORE_OK;
    }
    if (lock_row) {
        /* The path locks first, in the same round trip. */
        const char *lv[2] = { v[0], ancestors_array(req, path) };
        rc = pg_run_first(req, "path_locks", 2, lv);
        if (rc != DAV_STORE_OK)
            return rc;
    }
    if (lock_row && path[0] != '\0' && l != NULL) {
        const char *name;
        split_path(req, path, &v[2], &name);
        PGresult *r = pg_run(req, "lookup_lock_parent", 3, v, NULL, 0, &rc);
        if (r == NULL)
            return rc;
        bool found = false;
        l->pre_found = false;
        for (int i = 0; i < PQntuples(r); i++) {
            const char *p = PQgetvalue(r, i, 2);
            if (strcmp(p, path) == 0) {
                row_to_res(req->arena, r, i, out);
                found = true;
            } else if (strcmp(p, v[2]) == 0) {
                row_to_res(req->arena, r, i, &l->pre_res);
                l->pre_found = true;
            }
        }
        l->pre_space = space_id;
        l->pre_path = v[2];
        return found ? DAV_STORE_OK : DAV_STORE_NOTFOUND;
    }
    PGresult *r = pg_run(req, lock_row ? "lookup_lock" : "lookup", 2, v, NULL, 0,
                      &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0)
        return DAV_STORE_NOTFOUND;
    row_to_res(req->arena, r, 0, out);
    return DAV_STORE_OK;
}

/* Whether the members of 'path' may be calendars: the statements that
 * list them tell calendars only then (RES_FROM_MEMBERS). */
static bool
holds_calendars(const char *path)
{
    return strcmp(path, DAV_CAL_FOLDER) == 0;
}

static enum dav_store_rc
pg_children(struct dav_req *req, int64_t space_id, const char *path,
            struct dav_resource **out, size_t *n)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, space_id), path };
    PGresult *r = pg_run(req, holds_calendars(path) ? "children_cal"
                                                    : "children",
                         2, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++)
        row_to_res(req->arena, r, i, &(*out)[i]);
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

/* The one number a statement of (space, path) answers. */
static enum dav_store_rc
space_path_i64(struct dav_req *req, const char *stmt, int64_t space_id,
               const char *path, int64_t *out)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, space_id), path };
    PGresult *r = pg_run(req, stmt, 2, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    *out = pg_col_i64(r, 0, 0);
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_children_count(struct dav_req *req, int64_t space_id, const char *path,
                  int64_t *n)
{
    return space_path_i64(req, "children_count", space_id, path, n);
}

/*
 * Paged listings (LIST_PAGE members a page): a cursor (DECLARE, then FETCH
 * one page at a time) in the request's transaction.  Its query runs on the
 * snapshot taken at DECLARE, whatever the isolation level, so the pages
 * make one consistent listing;
 * the rows wait in PostgreSQL, not here.  DECLARE and FETCH cannot be
 * prepared: they go as constant text with parameters.  When asked, the
 * dead properties of a page's members come from props_get for their ids,
 * a second statement (so, in READ COMMITTED, a snapshot of its own, as
 * before listings were paged): a subquery aggregating each member's
 * properties into its row cost PostgreSQL 15 some 3 µs per member, as
 * much again as the listing itself.
 */
static const char list_open_sql[] =
    "DECLARE parvis_list NO SCROLL CURSOR FOR SELECT " RES_SELECT
    RES_FROM_MEMBERS MEMBERS_OF;
static const char list_open_cal_sql[] =
    "DECLARE parvis_list NO SCROLL CURSOR FOR SELECT " RES_COLS(MEMBER_PATH)
    MEMBERS_OF;
static const char list_fetch_sql[] =
    "FETCH FORWARD " PG_STR(LIST_PAGE) " FROM parvis_list";

struct dav_store_cursor {
    int64_t space_id;
    bool dead;
    bool end;
    PGresult *page;   /* the whole listing, read at once (req->arena's) */
};

/* Constant SQL with text parameters, outside the prepared statements; the
 * result belongs to 'a'.  NULL with *rc set on failure. */
PGresult *
pg_run_sql(struct dav_req *req, struct arena *a, const char *sql, int n,
           const char *const *vals, enum dav_store_rc *rc)
{
    struct lease *l = req->store_conn;
    *rc = DAV_STORE_OK;
    if (l == NULL || l->c == NULL || l->c->pg == NULL) {
        *rc = DAV_STORE_ERROR;
        return NULL;
    }
    const char *what;
    PGresult *r = lease_exec(l, NULL, sql, n, vals, NULL, NULL, 0, &what);
    arena_defer(a, pgresult_free_cb, r);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        *rc = pg_result_rc(l->c, r, what == sql ? "cursor" : what, req->id);
        if (l->failed == DAV_STORE_OK)
            l->failed = *rc;
        return NULL;
    }
    return r;
}

/* A listing expected to fit in one page is read by one prepared
 * statement: a cursor's DECLARE is parsed and planned at each listing, and
 * its FETCH is one more round trip (the two largest statements of a
 * listing of 100 members).  If it has grown past a page since it was
 * counted, the cursor reads it after all. */
static enum dav_store_rc
pg_children_open(struct dav_req *req, int64_t space_id, const char *path,
                 bool dead, int64_t expected, struct dav_store_cursor **out)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, space_id), path };
    struct dav_store_cursor *c = arena_alloc(req->arena, sizeof(*c));
    c->space_id = space_id;
    c->dead = dead;
    c->end = false;
    c->page = NULL;
    *out = c;
    if (expected >= 0 && expected <= LIST_PAGE) {
        PGresult *r = pg_run(req, holds_calendars(path) ? "children_page_cal"
                                                        : "children_page",
                             2, v, NULL, 0, &rc);
        if (r == NULL)
            return rc;
        if (PQntuples(r) <= LIST_PAGE) {
            c->page = r;
            return DAV_STORE_OK;
        }
    }
    const char *sql = holds_calendars(path) ? list_open_cal_sql
                                            : list_open_sql;
    if (pg_run_sql(req, req->arena, sql, 2, v, &rc) == NULL)
        return rc;
    return DAV_STORE_OK;
}

static int
member_id_cmp(const void *x, const void *y)
{
    const struct dav_store_member *a = *(struct dav_store_member *const *)x;
    const struct dav_store_member *b = *(struct dav_store_member *const *)y;
    return a->res.id < b->res.id ? -1 : a->res.id > b->res.id;
}

/* The dead properties of a page's members, in 'a': props_get's rows come
 * ordered by resource id, and are matched to the members sorted so. */
static enum dav_store_rc
page_dead(struct dav_req *req, struct arena *a, int64_t space_id,
          struct dav_store_member *m, size_t n)
{
    struct dav_store_member **byid = arena_alloc(a, (n + 1) * sizeof(*byid));
    struct buf b;
    buf_init(&b, a, n * 12 + 4);
    buf_puts(&b, "{");
    for (size_t i = 0; i < n; i++) {
        byid[i] = &m[i];
        buf_printf(&b, "%s%lld", i > 0 ? "," : "", (long long)m[i].res.id);
    }
    buf_puts(&b, "}");
    qsort(byid, n, sizeof(*byid), member_id_cmp);
    enum dav_store_rc rc;
    const char *v[2] = { arena_printf(a, "%lld", (long long)space_id),
                         buf_cstr(&b) };
    PGresult *r = pg_run_in(req, a, "props_get", 2, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    size_t rows = (size_t)PQntuples(r);
    struct dav_dead_prop *dp = arena_alloc(a, (rows + 1) * sizeof(*dp));
    size_t k = 0;
    for (size_t i = 0; i < rows;) {
        size_t j = i;
        int64_t id = pg_col_i64(r, (int)i, 0);
        for (; j < rows && pg_col_i64(r, (int)j, 0) == id; j++) {
            dp[j].resource_id = id;
            dp[j].ns = col_str(a, r, (int)j, 1);
            dp[j].name = col_str(a, r, (int)j, 2);
            dp[j].xml = col_str(a, r, (int)j, 3);
        }
        while (k < n && byid[k]->res.id < id)
            k++;
        if (k < n && byid[k]->res.id == id) {
            byid[k]->dead = &dp[i];
            byid[k]->ndead = j - i;
        }
        i = j;
    }
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_children_next(struct dav_req *req, struct dav_store_cursor *c,
                 struct arena *a, struct dav_store_member **out, size_t *n,
                 bool *last)
{
    *out = NULL;
    *n = 0;
    *last = true;
    if (c->end)
        return DAV_STORE_OK;
    enum dav_store_rc rc;
    PGresult *r = c->page;
    if (r == NULL) {
        r = pg_run_sql(req, a, list_fetch_sql, 0, NULL, &rc);
        if (r == NULL)
            return rc;
    }
    size_t rows = (size_t)PQntuples(r);
    struct dav_store_member *m = arena_alloc(a, (rows + 1) * sizeof(*m));
    for (size_t i = 0; i < rows; i++)
        row_to_res(a, r, (int)i, &m[i].res);
    if (c->dead && rows > 0) {
        rc = page_dead(req, a, c->space_id, m, rows);
        if (rc != DAV_STORE_OK)
            return rc;
    }
    c->end = c->page != NULL || rows < LIST_PAGE;
    c->page = NULL;
    *out = m;
    *n = rows;
    *last = c->end;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_props_get(struct dav_req *req, int64_t space_id, const int64_t *ids,
             size_t nids, struct dav_dead_prop **out, size_t *n)
{
    enum dav_store_rc rc;
    struct buf b;
    buf_init(&b, req->arena, nids * 12 + 4);
    buf_puts(&b, "{");
    for (size_t i = 0; i < nids; i++)
        buf_printf(&b, "%s%lld", i > 0 ? "," : "", (long long)ids[i]);
    buf_puts(&b, "}");
    const char *v[2] = { pg_i64(req, space_id), buf_cstr(&b) };
    PGresult *r = pg_run(req, "props_get", 2, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        (*out)[i].resource_id = pg_col_i64(r, i, 0);
        (*out)[i].ns = col_str(req->arena, r, i, 1);
        (*out)[i].name = col_str(req->arena, r, i, 2);
        (*out)[i].xml = col_str(req->arena, r, i, 3);
    }
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_prop_set(struct dav_req *req, const struct dav_resource *res,
            const char *ns, const char *name, const char *xml)
{
    enum dav_store_rc rc;
    const char *v[5] = { pg_i64(req, res->space_id), pg_i64(req, res->id), ns, name,
                         xml };
    pg_run(req, "prop_set", 5, v, NULL, 0, &rc);
    return rc;
}

static enum dav_store_rc
pg_prop_remove(struct dav_req *req, const struct dav_resource *res,
               const char *ns, const char *name)
{
    enum dav_store_rc rc;
    const char *v[3] = { pg_i64(req, res->id), ns, name };
    pg_run(req, "prop_remove", 3, v, NULL, 0, &rc);
    return rc;
}

static enum dav_store_rc
pg_create(struct dav_req *req, int64_t space_id, const char *path,
          enum dav_kind kind, struct dav_resource *out)
{
    enum dav_store_rc rc;
    const char *parent, *name;
    split_path(req, path, &parent, &name);
    int64_t creator = req->principal != NULL ? req->principal->id : 0;
    const char *v[5] = { pg_i64(req, space_id), parent, name,
                         kind == DAV_KIND_COLLECTION ? "0" : "1",
                         pg_i64(req, creator) };
    PGresult *r = pg_run(req, "create", 5, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0)
        return DAV_STORE_EXISTS;
    memset(out, 0, sizeof(*out));
    out->id = pg_col_i64(r, 0, 0);
    out->space_id = space_id;
    out->path = arena_strdup(req->arena, path);
    out->name = arena_strdup(req->arena, name);
    out->kind = kind;
    out->created = out->modified = (time_t)pg_col_i64(r, 0, 1);
    out->created_by = creator;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_chunk_put(struct dav_req *req, int64_t space_id,
             const unsigned char sha256[32], const void *data, size_t len)
{
    struct lease *l = req->store_conn;
    if (l == NULL || l->c == NULL || l->c->pg == NULL)
        return DAV_STORE_ERROR;
    /* A chunk of a transaction that then fails may stay cached: harmless,
     * since it is found only under the hash of its own bytes.  An upload
     * of more than a chunk (its first chunk is whole) is written whole, to
     * be sent from that one file (pg_content_fd). */
    struct disk_cache *disk = ((struct db_pool *)req->srv->store_ctx)->disk;
    if (l->fill == NULL && len == DAV_CHUNK_SIZE)
        l->fill = disk_cache_fill_begin(disk);
    if (l->fill != NULL)
        disk_cache_fill_add(l->fill, sha256, data, len);
    else if (len > CHUNK_CACHE_MAX_CHUNK)
        disk_cache_put(disk, space_id, sha256, data, len);
    char sid[24], slen[24];
    snprintf(sid, sizeof(sid), "%lld", (long long)space_id);
    snprintf(slen, sizeof(slen), "%zu", len);
    const char *v[4] = { sid, (const char *)sha256, slen, (const char *)data };
    int lens[4] = { 0, 32, 0, (int)len };
    int fmts[4] = { 0, 1, 0, 1 };
    /* The first chunk waits for the next statement (the next chunk, or,
     * for a small file, the revision) and goes with it.  Called once per
     * chunk of an upload: results are cleared here, not kept in the arena
     * until the end of a long request. */
    if (l->nlater == 0 && defer_stmt(l, "chunk_put", 4, v, lens))
        return DAV_STORE_OK;
    /* A chunk waits already: this is a large upload.  The chunks go ahead
     * as they come, PostgreSQL storing them while the next arrive; the
     * oldest ones' results are read once AHEAD_MAX groups are in flight. */
    if (!l->autocommit) {
        PGresult *fail;
        if (send_ahead(l, "chunk_put", 4, v, lens, fmts, &fail))
            return DAV_STORE_OK;
        if (l->c->pg != NULL) {
            enum dav_store_rc rc = pg_result_rc(l->c, fail, "chunk_put",
                                                req->id);
            PQclear(fail);
            return rc;
        }
        log_msg(LOG_ERROR, req->id, NULL, "chunk_put: cannot send to the "
                                          "database");
        return DAV_STORE_ERROR;
    }
    const char *what;
    PGresult *r = lease_exec(l, "chunk_put", NULL, 4, v, lens, fmts, 0, &what);
    enum dav_store_rc rc = DAV_STORE_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pg_result_rc(l->c, r, what, req->id);
    PQclear(r);
    return rc;
}

static enum dav_store_rc
pg_revision_add(struct dav_req *req, struct dav_resource *res,
                int64_t author_id, int64_t size, const char *content_type,
                const unsigned char sha256[32],
                const struct dav_chunk_ref *chunks, size_t nchunks)
{
    struct buf shas, sizes;
    buf_init(&shas, req->arena, nchunks * 66 + 4);
    buf_init(&sizes, req->arena, nchunks * 8 + 4);
    buf_puts(&shas, "{");
    buf_puts(&sizes, "{");
    for (size_t i = 0; i < nchunks; i++) {
        char hex[65];
        hex_encode(chunks[i].sha256, 32, hex);
        buf_printf(&shas, "%s%s", i > 0 ? "," : "", hex);
        buf_printf(&sizes, "%s%d", i > 0 ? "," : "", chunks[i].size);
    }
    buf_puts(&shas, "}");
    buf_puts(&sizes, "}");
    enum dav_store_rc rc;
    PGresult *r;
    bool create = res->id == 0;
    if (create) {
        const char *parent, *name;
        split_path(req, res->path, &parent, &name);
        const char *v[9] = { pg_i64(req, res->space_id), (const char *)sha256,
                             pg_i64(req, size), parent, name,
                             pg_i64(req, author_id), content_type,
                             buf_cstr(&shas), buf_cstr(&sizes) };
        int lens[9] = { 0, 32, 0, 0, 0, 0, 0, 0, 0 };
        r = pg_run(req, "revision_create", 9, v, lens, 0, &rc);
    } else {
        const char *v[8] = { pg_i64(req, res->space_id), (const char *)sha256,
                             pg_i64(req, size), pg_i64(req, res->id),
                             pg_i64(req, author_id), content_type,
                             buf_cstr(&shas), buf_cstr(&sizes) };
        int lens[8] = { 0, 32, 0, 0, 0, 0, 0, 0 };
        r = pg_run(req, "revision_put", 8, v, lens, 0, &rc);
    }
    struct lease *l = req->store_conn;
    if (l != NULL && l->fill != NULL) {
        /* The upload written whole is this content if its chunks are
         * these, in this order (whether or not the transaction commits:
         * the file is named by the hash of its bytes). */
        bool same = r != NULL && disk_cache_fill_chunks(l->fill) == nchunks;
        for (size_t i = 0; same && i < nchunks; i++)
            same = disk_cache_fill_has(l->fill, i, chunks[i].sha256);
        disk_cache_fill_end(l->fill, same, res->space_id, sha256,
                            (uint64_t)size);
        l->fill = NULL;
    }
    if (r == NULL)
        return rc;
    if (PQntuples(r) != 1)
        return create ? DAV_STORE_EXISTS : DAV_STORE_NOTFOUND;
    if (create) {
        res->id = pg_col_i64(r, 0, 0);
        res->rev_id = pg_col_i64(r, 0, 1);
        res->rev_num = 1;
        res->created = res->modified = (time_t)pg_col_i64(r, 0, 2);
        res->created_by = author_id;
        res->kind = DAV_KIND_FILE;
    } else {
        res->rev_id = pg_col_i64(r, 0, 0);
        res->rev_num = (int32_t)pg_col_i64(r, 0, 1);
        res->modified = (time_t)pg_col_i64(r, 0, 2);
    }
    res->size = size;
    res->content_type = arena_strdup(req->arena, content_type);
    memcpy(res->sha256, sha256, 32);
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_content_chunks(struct dav_req *req, const struct dav_resource *res,
                  struct dav_chunk_ref **out, size_t *n)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, res->space_id),
                         (const char *)res->sha256 };
    int lens[2] = { 0, 32 };
    PGresult *r = pg_run(req, "content_chunks", 2, v, lens, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    int64_t off = 0;
    for (int i = 0; i < rows; i++) {
        pg_hex_decode32(PQgetvalue(r, i, 0), (*out)[i].sha256);
        (*out)[i].size = (int32_t)pg_col_i64(r, i, 1);
        (*out)[i].offset = off;
        off += (*out)[i].size;
    }
    *n = (size_t)rows;
    if (off != res->size) {
        log_msg(LOG_ERROR, req->id, NULL, "content of resource %lld is "
                "incomplete", (long long)res->id);
        return DAV_STORE_ERROR;
    }
    return DAV_STORE_OK;
}

static bool
pg_chunk_local(struct dav_req *req, int64_t space_id,
               const unsigned char sha256[32], int64_t off, size_t len,
               void *dst)
{
    struct db_pool *pool = req->srv->store_ctx;
    return chunk_cache_get(pool->chunks, space_id, sha256, (size_t)off, len,
                           dst) ||
           disk_cache_get(pool->disk, space_id, sha256, (size_t)off, len,
                          dst);
}

static int
pg_content_fd(struct dav_req *req, int64_t space_id,
              const unsigned char sha256[32], uint64_t size)
{
    struct db_pool *pool = req->srv->store_ctx;
    return disk_cache_fd(pool->disk, space_id, sha256, size);
}

static void
pg_content_cold(struct dav_req *req, int64_t space_id,
                const unsigned char sha256[32])
{
    struct db_pool *pool = req->srv->store_ctx;
    disk_cache_drop(pool->disk, space_id, sha256);
}

static enum dav_store_rc
pg_chunk_read(struct dav_req *req, int64_t space_id,
              const unsigned char sha256[32], int64_t off, size_t len,
              void *dst)
{
    struct db_pool *pool = req->srv->store_ctx;
    if (pg_chunk_local(req, space_id, sha256, off, len, dst))
        return DAV_STORE_OK;
    bool own = req->store_conn == NULL ||
               ((struct lease *)req->store_conn)->c == NULL;
    enum dav_store_rc rc = DAV_STORE_ERROR;
    for (int attempt = 0; attempt < 2; attempt++) {
        struct lease *l;
        rc = lease_get(req, &l);
        if (rc != DAV_STORE_OK)
            return rc;
        char sid[24];
        snprintf(sid, sizeof(sid), "%lld", (long long)space_id);
        const char *v[2] = { sid, (const char *)sha256 };
        int lens[2] = { 0, 32 };
        int fmts[2] = { 0, 1 };
        const char *what;
        PGresult *r = lease_exec(l, "chunk_read", NULL, 2, v, lens, fmts, 1,
                                 &what);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            size_t have = (size_t)PQgetlength(r, 0, 0);
            if ((size_t)off + len <= have) {
                memcpy(dst, PQgetvalue(r, 0, 0) + off, len);
                rc = DAV_STORE_OK;
                cache_chunk(pool, space_id, sha256, PQgetvalue(r, 0, 0),
                            have);
            } else {
                rc = DAV_STORE_ERROR;
            }
        } else if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            rc = DAV_STORE_NOTFOUND;
        } else {
            rc = pg_result_rc(l->c, r, what, req->id);
        }
        bool broken = conn_broken(l->c->pg, r);
        PQclear(r);
        if (own)
            lease_release(l);
        if (!broken || !own)
            break;
    }
    return rc;
}

static enum dav_store_rc
pg_remove(struct dav_req *req, int64_t space_id, const char *path)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, space_id), path };
    pg_run(req, "remove", 2, v, NULL, 0, &rc);
    return rc;
}

/* Make the content of the tree at dst (in dst_space) available there when
 * it came from another space. */
static enum dav_store_rc
copy_content(struct dav_req *req, int64_t src_space, int64_t dst_space,
             const char *dst)
{
    enum dav_store_rc rc;
    if (src_space == dst_space)
        return DAV_STORE_OK;
    const char *v[3] = { pg_i64(req, src_space), dst, pg_i64(req, dst_space) };
    if (pg_run(req, "copy_blobs", 3, v, NULL, 0, &rc) == NULL ||
        pg_run(req, "copy_blob_chunks", 3, v, NULL, 0, &rc) == NULL ||
        pg_run(req, "copy_chunks", 3, v, NULL, 0, &rc) == NULL)
        return rc;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_copy(struct dav_req *req, int64_t src_space, const char *src,
        int64_t dst_space, const char *dst, bool depth0, int64_t author_id)
{
    enum dav_store_rc rc;
    const char *parent, *name;
    split_path(req, dst, &parent, &name);
    const char *s1 = pg_i64(req, src_space), *s3 = pg_i64(req, dst_space);
    const char *d0 = depth0 ? "true" : "false";
    const char *v[7] = { s1, src, s3, d0, parent, name,
                         pg_i64(req, author_id) };
    if (pg_run(req, "copy_tree", 7, v, NULL, 0, &rc) == NULL)
        return rc;
    return copy_content(req, src_space, dst_space, dst);
}

static enum dav_store_rc
pg_move(struct dav_req *req, int64_t src_space, const char *src,
        int64_t dst_space, const char *dst)
{
    enum dav_store_rc rc;
    const char *parent, *name;
    split_path(req, dst, &parent, &name);
    const char *v[5] = { pg_i64(req, src_space), src, pg_i64(req, dst_space),
                         parent, name };
    PGresult *r = pg_run(req, "move_tree", 5, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    /* Gone, its destination's folder gone, or that folder below it. */
    if (PQntuples(r) != 1)
        return DAV_STORE_CONFLICT;
    static const char trash[] = DAV_TRASH_FOLDER "/";
    if (strncmp(src, trash, sizeof(trash) - 1) == 0 &&
        strncmp(dst, trash, sizeof(trash) - 1) != 0) {
        const char *tv[2] = { v[2], dst };
        if (pg_run(req, "trash_aces_drop", 2, tv, NULL, 0, &rc) == NULL)
            return rc;
    }
    const char *fv[2] = { v[2], dst };
    if (pg_run(req, src_space == dst_space ? "calobj_follow_one"
                                           : "calobj_follow",
               2, fv, NULL, 0, &rc) == NULL)
        return rc;
    if (src_space == dst_space)
        return DAV_STORE_OK;
    const char *mv[3] = { v[0], v[2], dst };
    if (pg_run(req, "move_space_rows", 3, mv, NULL, 0, &rc) == NULL)
        return rc;
    return copy_content(req, src_space, dst_space, dst);
}

static enum dav_store_rc
pg_ping(struct dav_req *req)
{
    bool own = req->store_conn == NULL;
    enum dav_store_rc rc = pg_txn_begin(req);
    if (rc != DAV_STORE_OK)
        return rc;
    pg_run(req, "ping", 0, NULL, NULL, 0, &rc);
    if (own)
        pg_txn_rollback(req);
    return rc;
}

/* Append s[0..n) as a quoted element of a PostgreSQL array literal. */
void
pg_array_elem(struct buf *b, bool first, const char *s, size_t n)
{
    buf_puts(b, first ? "\"" : ",\"");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            buf_puts(b, "\\");
        buf_append(b, &s[i], 1);
    }
    buf_puts(b, "\"");
}

static enum dav_store_rc
pg_locks_find(struct dav_req *req, int64_t space_id, const char *path,
              unsigned scope, struct dav_lock **out, size_t *n)
{
    enum dav_store_rc rc;
    const char *parent = NULL, *name;
    if ((scope & DAV_LOCKS_PARENT) && path[0] != '\0')
        split_path(req, path, &parent, &name);
    const char *v[5] = { pg_i64(req, space_id), ancestors_array(req, path), path,
                         (scope & DAV_LOCKS_BELOW) ? "true" : "false", parent };
    PGresult *r = pg_run(req, "locks_find", 5, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        struct dav_lock *lk = &(*out)[i];
        lk->token = col_str(req->arena, r, i, 0);
        lk->space_id = space_id;
        lk->root = col_str(req->arena, r, i, 1);
        lk->infinite = pg_col_i64(r, i, 2) == -1;
        lk->exclusive = PQgetvalue(r, i, 3)[0] == 't';
        lk->owner_xml = col_str(req->arena, r, i, 4);
        lk->principal_id = pg_col_i64(r, i, 5);
        lk->timeout = (int32_t)pg_col_i64(r, i, 6);
        lk->expires = (time_t)pg_col_i64(r, i, 7);
    }
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_lock_create(struct dav_req *req, struct dav_lock *lk)
{
    enum dav_store_rc rc;
    const char *v[8] = { lk->token, pg_i64(req, lk->space_id), lk->root,
                         lk->infinite ? "-1" : "0",
                         lk->exclusive ? "true" : "false", lk->owner_xml,
                         pg_i64(req, lk->principal_id), pg_i64(req, lk->timeout) };
    PGresult *r = pg_run(req, "lock_create", 8, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    lk->expires = (time_t)pg_col_i64(r, 0, 0);
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_lock_refresh(struct dav_req *req, struct dav_lock *lk, int32_t timeout)
{
    enum dav_store_rc rc;
    const char *v[2] = { lk->token, pg_i64(req, timeout) };
    PGresult *r = pg_run(req, "lock_refresh", 2, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0)
        return DAV_STORE_NOTFOUND;
    lk->expires = (time_t)pg_col_i64(r, 0, 0);
    lk->timeout = timeout;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_lock_remove(struct dav_req *req, const char *token)
{
    enum dav_store_rc rc;
    const char *v[1] = { token };
    pg_run(req, "lock_remove", 1, v, NULL, 0, &rc);
    return rc;
}

/*
 * Free space of the database's disk, as far as this host can tell: the
 * data directory when the role may read it and it is local, else the
 * filesystem of the Unix socket directory, else unknown (-1).
 */
static int64_t
disk_free(struct dav_req *req)
{
    struct lease *l = req->store_conn;
    const char *paths[2] = { NULL, NULL };
    PGresult *r = lease_exec(l, NULL,
                             "SELECT setting FROM pg_settings "
                             "WHERE name = 'data_directory'",
                             0, NULL, NULL, NULL, 0, NULL);
    arena_defer(req->arena, pgresult_free_cb, r);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
        !PQgetisnull(r, 0, 0))
        paths[0] = PQgetvalue(r, 0, 0);
    const char *host = PQhost(l->c->pg);
    if (host != NULL && host[0] == '/')
        paths[1] = host;
    for (int i = 0; i < 2; i++) {
        struct statvfs sv;
        if (paths[i] != NULL && statvfs(paths[i], &sv) == 0)
            return (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
    }
    return -1;
}

static enum dav_store_rc
pg_quota_get(struct dav_req *req, int64_t space_id, int64_t *used,
             int64_t *limit, int64_t *free_bytes)
{
    enum dav_store_rc rc;
    const char *v[1] = { pg_i64(req, space_id) };
    PGresult *r = pg_run(req, "quota_get", 1, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0)
        return DAV_STORE_NOTFOUND;
    *used = pg_col_i64(r, 0, 0);
    *limit = pg_col_i64(r, 0, 1);
    *free_bytes = disk_free(req);
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_quota_lock(struct dav_req *req, int64_t space_id)
{
    enum dav_store_rc rc;
    const char *v[1] = { pg_i64(req, space_id) };
    PGresult *r = pg_run(req, "quota_lock", 1, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    return PQntuples(r) == 1 ? DAV_STORE_OK : DAV_STORE_NOTFOUND;
}

static enum dav_store_rc
pg_tree_size(struct dav_req *req, int64_t space_id, const char *path,
             int64_t *bytes, int64_t *members)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, space_id), path };
    PGresult *r = pg_run(req, "tree_size", 2, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    *bytes = pg_col_i64(r, 0, 0);
    *members = pg_col_i64(r, 0, 1);
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_mtime_set(struct dav_req *req, const struct dav_resource *res,
             time_t mtime)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, res->id), pg_i64(req, (int64_t)mtime) };
    pg_run(req, "mtime_set", 2, v, NULL, 0, &rc);
    return rc;
}

static enum dav_store_rc
pg_principal_valid(struct dav_req *req, int64_t user_id, int64_t app_id)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, user_id), pg_i64(req, app_id) };
    PGresult *r = app_id == 0
                      ? pg_run(req, "principal_valid", 1, v, NULL, 0, &rc)
                      : pg_run(req, "principal_valid_app", 2, v, NULL, 0,
                               &rc);
    if (r == NULL)
        return rc;
    return PQntuples(r) == 1 ? DAV_STORE_OK : DAV_STORE_NOTFOUND;
}

static enum dav_store_rc
pg_app_passwords(struct dav_req *req, int64_t user_id,
                 struct dav_app_password **out, size_t *n)
{
    enum dav_store_rc rc;
    const char *v[1] = { pg_i64(req, user_id) };
    PGresult *r = pg_run(req, "app_passwords", 1, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        (*out)[i].id = pg_col_i64(r, i, 0);
        pg_hex_decode32(PQgetvalue(r, i, 1), (*out)[i].sha256);
    }
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_aces_find(struct dav_req *req, int64_t space_id, const char *path,
             int64_t principal_id, struct dav_ace **out, size_t *n)
{
    enum dav_store_rc rc;
    const char *v[3] = { pg_i64(req, space_id),
                         path != NULL ? ancestors_array(req, path) : NULL,
                         pg_i64(req, principal_id) };
    PGresult *r = pg_run(req, path != NULL ? "aces_find" : "aces_find_all",
                         3, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        struct dav_ace *a = &(*out)[i];
        a->path = col_str(req->arena, r, i, 0);
        a->user = PQgetvalue(r, i, 1)[0] == 't';
        a->principal_id = pg_col_i64(r, i, 2);
        a->principal_name = col_str(req->arena, r, i, 3);
        a->grant = PQgetvalue(r, i, 4)[0] == 't';
        a->privs = (unsigned)pg_col_i64(r, i, 5);
    }
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_aces_replace(struct dav_req *req, const struct dav_resource *res,
                const struct dav_ace *aces, size_t n)
{
    enum dav_store_rc rc;
    const char *id = pg_i64(req, res->id);
    const char *cv[1] = { id };
    if (pg_run(req, "aces_clear", 1, cv, NULL, 0, &rc) == NULL)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const char *v[7] = { pg_i64(req, res->space_id), id,
                             aces[i].user ? "user" : "space",
                             pg_i64(req, aces[i].principal_id),
                             aces[i].grant ? "true" : "false",
                             pg_i64(req, (int64_t)aces[i].privs),
                             pg_i64(req, (int64_t)i) };
        if (pg_run(req, "ace_add", 7, v, NULL, 0, &rc) == NULL)
            return rc;
    }
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_space_members(struct dav_req *req, int64_t space_id,
                 struct dav_member **out, size_t *n)
{
    enum dav_store_rc rc;
    const char *v[1] = { pg_i64(req, space_id) };
    PGresult *r = pg_run(req, "space_members", 1, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        (*out)[i].name = col_str(req->arena, r, i, 0);
        (*out)[i].display_name = col_str(req->arena, r, i, 1);
        (*out)[i].role = col_str(req->arena, r, i, 2);
    }
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_users_visible(struct dav_req *req, int64_t viewer_id, const char *name,
                 struct dav_user **out, size_t *n)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, viewer_id), name };
    PGresult *r = pg_run(req, "users_visible", 2, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        struct dav_user *u = &(*out)[i];
        u->id = pg_col_i64(r, i, 0);
        u->name = col_str(req->arena, r, i, 1);
        u->display_name = col_str(req->arena, r, i, 3);
        u->email = col_str(req->arena, r, i, 4);
        u->disabled = PQgetvalue(r, i, 5)[0] == 't';
        u->guest = PQgetvalue(r, i, 6)[0] == 't';
        u->expires = (time_t)pg_col_i64(r, i, 7);
    }
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_space_by_slug(struct dav_req *req, const char *slug, struct dav_space *out)
{
    enum dav_store_rc rc;
    const char *v[1] = { slug };
    PGresult *r = pg_run(req, "space_by_slug", 1, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0)
        return DAV_STORE_NOTFOUND;
    row_to_space(req->arena, r, 0, out);
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_personal_space(struct dav_req *req, int64_t user_id, const char *user_name,
                  struct dav_space *out)
{
    enum dav_store_rc rc;
    const char *v[1] = { pg_i64(req, user_id) };
    for (int attempt = 0; attempt < 2; attempt++) {
        PGresult *r = pg_run(req, "personal_space_get", 1, v, NULL, 0, &rc);
        if (r == NULL)
            return rc;
        if (PQntuples(r) == 1) {
            row_to_space(req->arena, r, 0, out);
            /* A personal calendar's target starts here (decision 0026);
             * none when the space was made by this transaction. */
            req->store_stamp = attempt == 0 ? col_str(req->arena, r, 0, 7)
                                             : NULL;
            return DAV_STORE_OK;
        }
        const char *mv[2] = { v[0], user_name };
        if (pg_run(req, "personal_space_make", 2, mv, NULL, 0, &rc) == NULL)
            return rc;
    }
    return DAV_STORE_NOTFOUND;
}

static enum dav_store_rc
pg_calendars_of_user(struct dav_req *req, int64_t user_id,
                     struct dav_calendar_ref **out, size_t *n)
{
    enum dav_store_rc rc;
    const char *v[1] = { pg_i64(req, user_id) };
    PGresult *r = pg_run(req, "calendars_of_user", 1, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        struct dav_calendar_ref *c = &(*out)[i];
        row_to_space(req->arena, r, i, &c->space);
        c->personal = PQgetvalue(r, i, 7)[0] == 't';
        /* The resource columns follow the space's eight. */
        row_to_res_at(req->arena, r, i, 8, &c->res);
        const struct dav_resource *res = &c->res;
        c->name = res->name;
    }
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

static enum dav_store_rc
collection_mark(struct dav_req *req, int64_t collection_id,
                struct dav_sync_mark *mark, int64_t *horizon)
{
    enum dav_store_rc rc;
    const char *v[1] = { pg_i64(req, collection_id) };
    PGresult *r = pg_run(req, "collection_mark", 1, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    mark->from = pg_col_i64(r, 0, 0);
    mark->seen = pg_col_i64(r, 0, 1);
    *horizon = pg_col_i64(r, 0, 2);
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_collection_mark(struct dav_req *req, int64_t collection_id,
                   struct dav_sync_mark *mark)
{
    int64_t horizon;
    return collection_mark(req, collection_id, mark, &horizon);
}

static enum dav_store_rc
pg_changes_since(struct dav_req *req, int64_t collection_id, int64_t from,
                 const char ***names, bool **deleted, size_t *n,
                 struct dav_sync_mark *now)
{
    int64_t horizon;
    enum dav_store_rc rc = collection_mark(req, collection_id, now, &horizon);
    if (rc != DAV_STORE_OK)
        return rc;
    if (from > horizon)
        return DAV_STORE_NOTFOUND;
    const char *v[2] = { pg_i64(req, collection_id), pg_i64(req, from) };
    PGresult *r = pg_run(req, "changes_since", 2, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *names = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**names));
    *deleted = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**deleted));
    for (int i = 0; i < rows; i++) {
        (*names)[i] = col_str(req->arena, r, i, 0);
        (*deleted)[i] = PQgetvalue(r, i, 1)[0] == 't';
        /* A member with entries of its own left: whom they hid it from
         * is not known any more, so no one is told its name
         * (0021_changes_guarded); the client lists the collection anew. */
        if ((*deleted)[i] && PQgetvalue(r, i, 2)[0] == 't')
            return DAV_STORE_NOTFOUND;
    }
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_audit_add(struct dav_req *req, const struct dav_audit *a)
{
    enum dav_store_rc rc;
    const char *v[10] = { a->principal, a->client, a->user_agent, a->action,
                          pg_i64(req, a->space_id), a->path,
                          pg_i64(req, a->resource_id),
                          pg_i64(req, a->revision_id),
                          pg_i64(req, a->status), a->detail };
    /* In a transaction, the row goes with the COMMIT (struct deferred). */
    struct lease *l = req->store_conn;
    if (l == NULL || l->c == NULL || l->c->pg == NULL)
        return DAV_STORE_ERROR;
    l->audited = true;
    if (defer_stmt(l, "audit_add", 10, v, NULL))
        return DAV_STORE_OK;
    pg_run(req, "audit_add", 10, v, NULL, 0, &rc);
    return rc;
}

static enum dav_store_rc
pg_revision_time(struct dav_req *req, int64_t rev_id, int64_t *created)
{
    enum dav_store_rc rc;
    const char *v[1] = { pg_i64(req, rev_id) };
    PGresult *r = pg_run(req, "revision_time", 1, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0)
        return DAV_STORE_NOTFOUND;
    *created = pg_col_i64(r, 0, 0);
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_revisions(struct dav_req *req, int64_t resource_id,
             struct dav_revision **out, size_t *n)
{
    enum dav_store_rc rc;
    const char *v[1] = { pg_i64(req, resource_id) };
    PGresult *r = pg_run(req, "revisions", 1, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        struct dav_revision *x = &(*out)[i];
        x->id = pg_col_i64(r, i, 0);
        x->num = (int32_t)pg_col_i64(r, i, 1);
        x->author = col_str(req->arena, r, i, 2);
        x->created = (time_t)pg_col_i64(r, i, 3);
        x->size = pg_col_i64(r, i, 4);
        x->content_type = col_str(req->arena, r, i, 5);
        pg_hex_decode32(PQgetvalue(r, i, 6), x->sha256);
        x->comment = col_str(req->arena, r, i, 7);
        x->approved = PQgetvalue(r, i, 8)[0] == 't';
    }
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_revision_restore(struct dav_req *req, struct dav_resource *res,
                    int64_t rev_id, int64_t author_id, const char *comment)
{
    enum dav_store_rc rc;
    const char *v[5] = { pg_i64(req, res->id), pg_i64(req, rev_id),
                         pg_i64(req, res->space_id), pg_i64(req, author_id),
                         comment };
    PGresult *r = pg_run(req, "revision_restore", 5, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) != 1)
        return DAV_STORE_NOTFOUND;
    res->rev_id = pg_col_i64(r, 0, 0);
    res->rev_num = (int32_t)pg_col_i64(r, 0, 1);
    res->size = pg_col_i64(r, 0, 2);
    res->content_type = col_str(req->arena, r, 0, 3);
    pg_hex_decode32(PQgetvalue(r, 0, 4), res->sha256);
    res->modified = (time_t)pg_col_i64(r, 0, 5);
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_approval_set(struct dav_req *req, const struct dav_resource *res,
                const char *state, int64_t by)
{
    enum dav_store_rc rc;
    const char *v[3] = { pg_i64(req, res->id), state, pg_i64(req, by) };
    pg_run(req, "approval_set", 3, v, NULL, 0, &rc);
    return rc;
}

static enum dav_store_rc
pg_approval_comment_set(struct dav_req *req, const struct dav_resource *res,
                        const char *comment)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, res->id), comment };
    pg_run(req, "approval_comment_set", 2, v, NULL, 0, &rc);
    return rc;
}

static enum dav_store_rc
resources_from(struct dav_req *req, const char *stmt, int n,
               const char *const *v, struct dav_resource **out, size_t *nout)
{
    enum dav_store_rc rc;
    PGresult *r = pg_run(req, stmt, n, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++)
        row_to_res(req->arena, r, i, &(*out)[i]);
    *nout = (size_t)rows;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_published_lookup(struct dav_req *req, int64_t space_id, const char *path,
                    struct dav_resource *out)
{
    const char *v[2] = { pg_i64(req, space_id), path };
    struct dav_resource *rs;
    size_t n;
    enum dav_store_rc rc = resources_from(req, "published_lookup", 2, v, &rs,
                                          &n);
    if (rc != DAV_STORE_OK)
        return rc;
    if (n == 0)
        return DAV_STORE_NOTFOUND;
    *out = rs[0];
    if (out->kind == DAV_KIND_FILE)
        out->rev_id = out->approved_rev; /* what is served */
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_published_children(struct dav_req *req, int64_t space_id,
                      const char *path, struct dav_resource **out, size_t *n)
{
    const char *v[2] = { pg_i64(req, space_id), path };
    enum dav_store_rc rc = resources_from(req, "published_children", 2, v,
                                          out, n);
    for (size_t i = 0; rc == DAV_STORE_OK && i < *n; i++)
        if ((*out)[i].kind == DAV_KIND_FILE)
            (*out)[i].rev_id = (*out)[i].approved_rev;
    return rc;
}

static enum dav_store_rc
pg_submitted(struct dav_req *req, int64_t space_id, struct dav_resource **out,
             size_t *n)
{
    const char *v[1] = { pg_i64(req, space_id) };
    return resources_from(req, "submitted", 1, v, out, n);
}

static enum dav_store_rc
pg_trash(struct dav_req *req, int64_t space_id, const char *path, int64_t by,
         const char **entry)
{
    enum dav_store_rc rc;
    const char *sv[1] = { pg_i64(req, space_id) };
    if (pg_run(req, "trash_folder", 1, sv, NULL, 0, &rc) == NULL)
        return rc;
    PGresult *r = pg_run(req, "trash_entry", 0, NULL, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    *entry = col_str(req->arena, r, 0, 0);
    rc = pg_move(req, space_id, path, space_id, *entry);
    if (rc != DAV_STORE_OK)
        return rc;
    const char *mv[4] = { sv[0], *entry, path, pg_i64(req, by) };
    pg_run(req, "trash_mark", 4, mv, NULL, 0, &rc);
    return rc;
}

static enum dav_store_rc
pg_tree_has_approved(struct dav_req *req, int64_t space_id, const char *path,
                     bool *yes)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, space_id), path };
    PGresult *r = pg_run(req, "tree_has_approved", 2, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    *yes = PQgetvalue(r, 0, 0)[0] == 't';
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_renamed_away_note(struct dav_req *req, int64_t space_id, const char *from,
                     const char *to, int64_t resource_id, int64_t rev_id,
                     int64_t user_id, int64_t doc_id)
{
    enum dav_store_rc rc;
    const char *v[7] = { pg_i64(req, space_id), from, to,
                         pg_i64(req, resource_id), pg_i64(req, rev_id),
                         pg_i64(req, user_id),
                         doc_id != 0 ? pg_i64(req, doc_id) : NULL };
    pg_run(req, "renamed_away_note", 7, v, NULL, 0, &rc);
    return rc;
}

static enum dav_store_rc
pg_disposable(struct dav_req *req, const struct dav_resource *res,
              const char *path, const char *audit_path, bool lock_name,
              bool *yes)
{
    enum dav_store_rc rc;
    const char *v[5] = { pg_i64(req, res->space_id), path,
                         pg_i64(req, res->id), lock_name ? "t" : "f",
                         audit_path };
    PGresult *r = pg_run(req, "disposable", 5, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    *yes = PQgetvalue(r, 0, 0)[0] == 't';
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_renamed_away_take(struct dav_req *req, int64_t space_id, const char *path,
                     int64_t user_id, int within, const char **to,
                     int64_t *resource_id, int64_t *rev_id)
{
    enum dav_store_rc rc;
    const char *v[4] = { pg_i64(req, space_id), path, pg_i64(req, user_id),
                         pg_i64(req, within) };
    PGresult *r = pg_run(req, "renamed_away_take", 4, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0)
        return DAV_STORE_NOTFOUND;
    *to = arena_strdup(req->arena, PQgetvalue(r, 0, 0));
    *resource_id = pg_col_i64(r, 0, 1);
    *rev_id = pg_col_i64(r, 0, 2);
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_receipts(struct dav_req *req, const struct dav_resource *res,
            struct dav_receipt **out, size_t *n)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, res->space_id),
                         pg_i64(req, res->approved_rev) };
    PGresult *r = pg_run(req, "receipts", 2, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        (*out)[i].user = col_str(req->arena, r, i, 0);
        (*out)[i].read_at = (time_t)pg_col_i64(r, i, 1);
    }
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

static enum dav_store_rc
pg_audit_of(struct dav_req *req, int64_t space_id, const char *path,
            struct dav_audit **out, size_t *n)
{
    enum dav_store_rc rc;
    const char *v[2] = { pg_i64(req, space_id), path };
    PGresult *r = pg_run(req, "audit_of", 2, v, NULL, 0, &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    *out = arena_alloc(req->arena, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        struct dav_audit *a = &(*out)[i];
        a->at = (time_t)pg_col_i64(r, i, 0);
        a->action = col_str(req->arena, r, i, 1);
        a->principal = col_str(req->arena, r, i, 2);
        a->status = (int)pg_col_i64(r, i, 3);
        a->revision_id = pg_col_i64(r, i, 4);
        a->detail = col_str(req->arena, r, i, 5);
    }
    *n = (size_t)rows;
    return DAV_STORE_OK;
}

static const struct dav_store_ops pg_ops = {
    .txn_begin = pg_txn_begin,
    .read_begin = pg_read_begin,
    .txn_commit = pg_txn_commit,
    .txn_rollback = pg_txn_rollback,
    .user_by_name = pg_user_by_name,
    .space_for_user = pg_space_for_user,
    .space_lookup = pg_space_lookup,
    .stamp_now = pg_stamp_now,
    .stamp_of = pg_stamp_of,
    .read_whole = pg_read_whole,
    .spaces_of_user = pg_spaces_of_user,
    .lookup = pg_lookup,
    .children = pg_children,
    .children_count = pg_children_count,
    .children_open = pg_children_open,
    .children_next = pg_children_next,
    .props_get = pg_props_get,
    .prop_set = pg_prop_set,
    .prop_remove = pg_prop_remove,
    .create = pg_create,
    .chunk_put = pg_chunk_put,
    .revision_add = pg_revision_add,
    .content_fd = pg_content_fd,
    .content_chunks = pg_content_chunks,
    .chunk_read = pg_chunk_read,
    .chunk_local = pg_chunk_local,
    .remove = pg_remove,
    .copy = pg_copy,
    .move = pg_move,
    .ping = pg_ping,
    .locks_find = pg_locks_find,
    .lock_create = pg_lock_create,
    .lock_refresh = pg_lock_refresh,
    .lock_remove = pg_lock_remove,
    .quota_get = pg_quota_get,
    .quota_lock = pg_quota_lock,
    .mtime_set = pg_mtime_set,
    .tree_size = pg_tree_size,
    .principal_valid = pg_principal_valid,
    .app_passwords = pg_app_passwords,
    .aces_find = pg_aces_find,
    .aces_replace = pg_aces_replace,
    .space_members = pg_space_members,
    .users_visible = pg_users_visible,
    .space_by_slug = pg_space_by_slug,
    .personal_space = pg_personal_space,
    .calendars_of_user = pg_calendars_of_user,
    .collection_mark = pg_collection_mark,
    .changes_since = pg_changes_since,
    .audit_add = pg_audit_add,
    .revisions = pg_revisions,
    .revision_time = pg_revision_time,
    .revision_restore = pg_revision_restore,
    .approval_set = pg_approval_set,
    .approval_comment_set = pg_approval_comment_set,
    .published_lookup = pg_published_lookup,
    .published_children = pg_published_children,
    .submitted = pg_submitted,
    .trash = pg_trash,
    .content_cold = pg_content_cold,
    .tree_has_approved = pg_tree_has_approved,
    .renamed_away_note = pg_renamed_away_note,
    .renamed_away_take = pg_renamed_away_take,
    .disposable = pg_disposable,
    .receipts = pg_receipts,
    .audit_of = pg_audit_of,
};

const struct dav_store_ops *
db_store_ops(void)
{
    return &pg_ops;
}
