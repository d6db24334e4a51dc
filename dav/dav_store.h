/*
 * dav/dav_store.h -- the storage interface of the DAV core (the provider,
 * as in httpd mod_dav).  dav/ talks to storage only through these
 * function pointers; db/pg_store.c implements them on PostgreSQL and
 * tests/unit/fakes/ in memory.
 *
 * Conventions for every operation:
 *  - results go in out-parameters, allocated in req->arena;
 *  - the return value is an enum dav_store_rc; DAV_STORE_RETRY and
 *    DAV_STORE_ERROR mean the database failed, already logged by the store;
 *  - operations that change data run inside the request's transaction,
 *    opened by txn_begin and closed by txn_commit or txn_rollback.
 */
#ifndef PARVIS_DAV_STORE_H
#define PARVIS_DAV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct arena;
struct dav_req;

enum dav_store_rc {
    DAV_STORE_OK = 0,
    DAV_STORE_NOTFOUND,
    DAV_STORE_EXISTS,
    DAV_STORE_CONFLICT,
    DAV_STORE_RETRY,
    DAV_STORE_ERROR,
};

enum dav_kind {
    DAV_KIND_COLLECTION = 0,
    DAV_KIND_FILE = 1,
};

#define DAV_SUBTYPE_PLAIN 0
#define DAV_SUBTYPE_CALENDAR 1

/* Size of a content chunk: bodies are cut into pieces of this size. */
#define DAV_CHUNK_SIZE (256 * 1024)

struct dav_user {
    int64_t id;
    const char *name;
    const char *password_hash;
    const char *display_name;
    const char *email;
    bool disabled;
    bool guest;
    time_t expires;           /* guests: 0 if none */
};

struct dav_space {
    int64_t id;
    const char *slug;
    const char *title;
    const char *role;         /* the principal's role in it ("" for none:
                                 access through access control entries) */
    bool has_aces;            /* the space has access control entries */
    int64_t quota;            /* bytes, -1 for none */
    time_t created;
};

struct dav_resource {
    int64_t id;
    int64_t space_id;
    const char *path;         /* "" for the space root, "/a/b" otherwise */
    const char *name;
    enum dav_kind kind;
    int64_t rev_id;           /* 0 for collections and empty new files */
    int32_t rev_num;
    int64_t size;
    const char *content_type; /* NULL for collections */
    unsigned char sha256[32]; /* content hash, valid when rev_id != 0 */
    time_t created;
    time_t modified;
    int subtype;              /* DAV_SUBTYPE_*: a collection's kind */
    const char *components;   /* calendars: "VEVENT,VTODO" */
    int64_t created_by;       /* principal who created it, 0 if unknown */
    const char *created_by_name; /* its name, NULL if unknown */
    /* approval (files) */
    const char *approval_state;  /* draft, submitted, approved, rejected */
    const char *approval_comment;
    int64_t approved_rev;        /* 0 if never approved */
    const char *approved_by;
    time_t approved_at;
    /* the root of a tree in the trash */
    const char *trashed_from;
    const char *trashed_by;
    time_t trashed_at;
};

struct dav_dead_prop {
    int64_t resource_id;
    const char *ns;
    const char *name;
    const char *xml;          /* the whole property element, serialized */
};

/* One member of a paged listing (children_next). */
struct dav_store_member {
    struct dav_resource res;
    struct dav_dead_prop *dead; /* its dead properties by (ns, name), when
                                   the listing was opened with them */
    size_t ndead;
};

/* An open paged listing; defined by the store. */
struct dav_store_cursor;

struct dav_chunk_ref {
    unsigned char sha256[32];
    int64_t offset;
    int32_t size;
};

/* An access control entry (RFC 3744 §5.5) on the resource at 'path'. */
struct dav_ace {
    const char *path;         /* in-space path of the resource carrying it */
    bool user;                /* principal is a user, else a space's members */
    int64_t principal_id;
    const char *principal_name; /* user name or space slug */
    bool grant;               /* else deny */
    unsigned privs;           /* DAV_PRIV_* */
};

/* A collection's place in the change log (RFC 6578 sync token, CTag;
 * decision 0018).  Every transaction older than 'from' that could log a
 * change of a member had ended when the mark was read, and its changes
 * were seen; 'seen' counts the changes seen from 'from' on, so that the
 * mark moves when any change commits, even while an older writer, still
 * running, holds 'from' back. */
struct dav_sync_mark {
    int64_t from;
    int64_t seen;
};

/* A calendar as seen from a user's calendar home. */
struct dav_calendar_ref {
    struct dav_space space;   /* the space holding it (role of the user) */
    struct dav_resource res;  /* the calendar collection */
    const char *name;         /* its folder name under DAV_CAL_FOLDER */
    bool personal;            /* in the user's personal space */
};

struct dav_member {
    const char *name;
    const char *display_name;
    const char *role;
};

struct dav_app_password {
    int64_t id;
    unsigned char sha256[32];
};

/* A write lock (RFC 4918 §6). */
struct dav_lock {
    const char *token;        /* "urn:uuid:..." */
    int64_t space_id;
    const char *root;         /* in-space path of the lock root */
    bool infinite;            /* Depth: infinity (else 0) */
    bool exclusive;           /* else shared */
    const char *owner_xml;    /* the DAV:owner element, or NULL */
    int64_t principal_id;
    int32_t timeout;          /* granted, seconds */
    time_t expires;
};

/* locks_find's scope */
enum {
    DAV_LOCKS_BELOW = 1,      /* also the locks rooted below the path */
    DAV_LOCKS_PARENT = 2,     /* also the depth-0 locks of its parent */
};

/* A revision of a file. */
struct dav_revision {
    int64_t id;
    int32_t num;
    const char *author;
    time_t created;
    int64_t size;
    const char *content_type;
    unsigned char sha256[32];
    const char *comment;
    bool approved;
};

/* Who had access to an approved revision, and when they first read it. */
struct dav_receipt {
    const char *user;
    time_t read_at;           /* 0: not read yet */
};

/* One row of the audit trail. */
struct dav_audit {
    time_t at;                /* set by the store on reading */
    const char *action;       /* the method, or an event name */
    const char *principal;
    const char *client;
    const char *user_agent;
    int64_t space_id;         /* 0: none */
    const char *path;
    int64_t resource_id;
    int64_t revision_id;
    int status;
    const char *detail;
};

struct dav_store_ops {
    /* Transactions.  txn_begin leases a database connection for the request;
     * commit and rollback return it.  rollback cannot fail. */
    enum dav_store_rc (*txn_begin)(struct dav_req *req);
    enum dav_store_rc (*txn_commit)(struct dav_req *req);
    void (*txn_rollback)(struct dav_req *req);
    /* Optional: lease a connection for reads only, without a transaction
     * (each statement sees what was committed before it); txn_commit or
     * txn_rollback returns it.  Saves BEGIN and COMMIT on the hot reads. */
    enum dav_store_rc (*read_begin)(struct dav_req *req);

    /* Principals and spaces. */
    enum dav_store_rc (*user_by_name)(struct dav_req *req, const char *name,
                                      struct dav_user *out);
    /* The space 'slug' if user_id is a member (NOTFOUND otherwise). */
    enum dav_store_rc (*space_for_user)(struct dav_req *req, const char *slug,
                                        int64_t user_id, struct dav_space *out);
    /* Optional: space_for_user, principal_valid(user_id, app_id) and
     * lookup (without lock) of 'path' in that space, in one statement.
     * OK with *principal_ok and, if the space is the user's, *space_found,
     * and if the path exists there, *found and *res (path NULL: no lookup,
     * *found false).  Sets req->store_stamp (the statement's snapshot) and
     * req->principal_until (when the account's validity ends: 0 none). */
    enum dav_store_rc (*space_lookup)(struct dav_req *req, const char *slug,
                                      int64_t user_id, int64_t app_id,
                                      const char *path, bool *principal_ok,
                                      struct dav_space *space,
                                      bool *space_found,
                                      struct dav_resource *res, bool *found);
    enum dav_store_rc (*spaces_of_user)(struct dav_req *req, int64_t user_id,
                                        struct dav_space **out, size_t *n);
    /* Optional, both or neither: a name of the database's state, read by
     * a statement sent after the call began (one answers the calls of many
     * requests), with the database's clock then in *db_now: the same name
     * only while no transaction has ended; and a name of the state a
     * statement saw (its req->store_stamp), which a stamp_now reading that
     * same state may give.  NULL: none to rely on (a standby, no answer
     * within a second). */
    const char *(*stamp_now)(struct dav_req *req, time_t *db_now);
    const char *(*stamp_of)(struct dav_req *req, const char *snapshot);
    /* Optional: whether every statement of the request's read so far
     * answered, from a server taking writes (a property whose statement
     * failed is left out of an answer, not refused; a fenced primary's
     * data is frozen): only then may its answer be kept (decision 0029). */
    bool (*read_whole)(struct dav_req *req);

    /* Resources.  'lock_row' takes a row lock until the end of the txn. */
    enum dav_store_rc (*lookup)(struct dav_req *req, int64_t space_id,
                                const char *path, bool lock_row,
                                struct dav_resource *out);
    /* Members of the collection at 'path', in name order. */
    enum dav_store_rc (*children)(struct dav_req *req, int64_t space_id,
                                  const char *path, struct dav_resource **out,
                                  size_t *n);
    /* Number of members of the collection at 'path' (before any access
     * check). */
    enum dav_store_rc (*children_count)(struct dav_req *req,
                                        int64_t space_id, const char *path,
                                        int64_t *n);
    /*
     * Open a listing of the members of the collection at 'path', in name
     * order, read page by page with children_next from one snapshot taken
     * now: a member renamed or added meanwhile is neither listed twice nor
     * skipped.  With 'dead', each member comes with its dead properties.
     * The listing lives in the request's transaction, which must stay
     * open until its last page is read; one listing at a time per
     * transaction.  *out is allocated in req->arena.  'expected' is the
     * member count the caller read just before (children_count), or -1:
     * a store may read a listing expected to fit in one page at once.
     */
    enum dav_store_rc (*children_open)(struct dav_req *req, int64_t space_id,
                                       const char *path, bool dead,
                                       int64_t expected,
                                       struct dav_store_cursor **out);
    /*
     * The next page of a listing, of at most a store-defined number of
     * members (a few hundred), allocated in 'a' and valid until 'a' is
     * reset or destroyed: that is what bounds the memory of a listing.
     * *last is set when no member follows this page; *n is 0 past the end.
     */
    enum dav_store_rc (*children_next)(struct dav_req *req,
                                       struct dav_store_cursor *c,
                                       struct arena *a,
                                       struct dav_store_member **out,
                                       size_t *n, bool *last);
    /* Dead properties of the given resources (all of them, or one name). */
    enum dav_store_rc (*props_get)(struct dav_req *req, int64_t space_id,
                                   const int64_t *ids, size_t nids,
                                   struct dav_dead_prop **out, size_t *n);
    enum dav_store_rc (*prop_set)(struct dav_req *req,
                                  const struct dav_resource *res,
                                  const char *ns, const char *name,
                                  const char *xml);
    enum dav_store_rc (*prop_remove)(struct dav_req *req,
                                     const struct dav_resource *res,
                                     const char *ns, const char *name);

    /* Create a member (collection or empty file without revision) at path,
     * whose parent must exist; EXISTS if taken.  *out is the new row. */
    enum dav_store_rc (*create)(struct dav_req *req, int64_t space_id,
                                const char *path, enum dav_kind kind,
                                struct dav_resource *out);
    /* Store one content chunk (idempotent: identical bytes are kept once). */
    enum dav_store_rc (*chunk_put)(struct dav_req *req, int64_t space_id,
                                   const unsigned char sha256[32],
                                   const void *data, size_t len);
    /* Record a new revision of file 'res' made of the given chunks, and make
     * it current.  res is updated (rev_id, rev_num, size, sha256...).  With
     * res->id 0, the file is created at res->path of res->space_id with it
     * (and res->id, created, created_by filled in); EXISTS if the path was
     * taken meanwhile. */
    enum dav_store_rc (*revision_add)(struct dav_req *req,
                                      struct dav_resource *res,
                                      int64_t author_id, int64_t size,
                                      const char *content_type,
                                      const unsigned char sha256[32],
                                      const struct dav_chunk_ref *chunks,
                                      size_t nchunks);
    /* An open file of the whole content (space_id, sha256) of size bytes,
     * held by this node, for sending as it is; -1 if none.  The caller
     * closes it.  May be NULL (no such files). */
    int (*content_fd)(struct dav_req *req, int64_t space_id,
                      const unsigned char sha256[32], uint64_t size);
    /* The chunk list of a file's current content. */
    enum dav_store_rc (*content_chunks)(struct dav_req *req,
                                        const struct dav_resource *res,
                                        struct dav_chunk_ref **out, size_t *n);
    /* Read bytes [off, off+len) of one chunk into 'dst'.  May be called
     * outside a transaction (chunks are immutable); leases a connection
     * for the call if the request holds none. */
    enum dav_store_rc (*chunk_read)(struct dav_req *req, int64_t space_id,
                                    const unsigned char sha256[32],
                                    int64_t off, size_t len, void *dst);
    /* The same from this node's caches only, never asking the database:
     * true if they held the range.  May be NULL (no such caches). */
    bool (*chunk_local)(struct dav_req *req, int64_t space_id,
                        const unsigned char sha256[32], int64_t off,
                        size_t len, void *dst);
    /* Delete the resource at path and everything below it. */
    enum dav_store_rc (*remove)(struct dav_req *req, int64_t space_id,
                                const char *path);
    /* Copy the tree at src to dst (dst and below must be free), keeping
     * dead properties; depth0 copies a collection without its members.
     * Copies get revision 1 with the source's current content. */
    enum dav_store_rc (*copy)(struct dav_req *req, int64_t src_space,
                              const char *src, int64_t dst_space,
                              const char *dst, bool depth0,
                              int64_t author_id);
    /* Move the tree at src to dst (dst must be free). */
    enum dav_store_rc (*move)(struct dav_req *req, int64_t src_space,
                              const char *src, int64_t dst_space,
                              const char *dst);
    /* Database health for /healthz: OK or ERROR. */
    enum dav_store_rc (*ping)(struct dav_req *req);

    /* Unexpired locks covering 'path' (rooted there, or at an ancestor
     * with depth infinity), plus with DAV_LOCKS_BELOW in 'scope' those
     * rooted below it and with DAV_LOCKS_PARENT the depth-0 locks of its
     * parent; in the order of their roots. */
    enum dav_store_rc (*locks_find)(struct dav_req *req, int64_t space_id,
                                    const char *path, unsigned scope,
                                    struct dav_lock **out, size_t *n);
    enum dav_store_rc (*lock_create)(struct dav_req *req,
                                     struct dav_lock *lk);
    /* Give the lock a new timeout from now; updates lk->expires. */
    enum dav_store_rc (*lock_refresh)(struct dav_req *req,
                                      struct dav_lock *lk, int32_t timeout);
    enum dav_store_rc (*lock_remove)(struct dav_req *req, const char *token);
    /* Bytes used by the current content of a space, its quota (-1: none)
     * and the free space of the database's disk (-1: unknown). */
    enum dav_store_rc (*quota_get)(struct dav_req *req, int64_t space_id,
                                   int64_t *used, int64_t *limit,
                                   int64_t *disk_free);
    /* Hold the space until the end of the transaction, so that writers
     * check its quota one at a time: a quota_get after it counts what
     * every other writer of the space committed. */
    enum dav_store_rc (*quota_lock)(struct dav_req *req, int64_t space_id);
    /* Bytes of the current content of the tree at path, and the number
     * of its resources (itself included). */
    enum dav_store_rc (*tree_size)(struct dav_req *req, int64_t space_id,
                                   const char *path, int64_t *bytes,
                                   int64_t *members);
    /* Set the modification time shown for a resource (X-OC-Mtime,
     * Win32LastModifiedTime). */
    enum dav_store_rc (*mtime_set)(struct dav_req *req,
                                   const struct dav_resource *res,
                                   time_t mtime);

    /* Is the user still allowed in (enabled, not an expired guest) and,
     * when app_id != 0, that app password not revoked?  OK or NOTFOUND. */
    enum dav_store_rc (*principal_valid)(struct dav_req *req,
                                         int64_t user_id, int64_t app_id);
    /* The unrevoked app passwords of a user. */
    enum dav_store_rc (*app_passwords)(struct dav_req *req, int64_t user_id,
                                       struct dav_app_password **out,
                                       size_t *n);
    /* Access control entries of a space that apply to principal_id (as a
     * user or as a member of a space), or all of them when principal_id is
     * 0; restricted to 'path' and its ancestors unless path is NULL. */
    enum dav_store_rc (*aces_find)(struct dav_req *req, int64_t space_id,
                                   const char *path, int64_t principal_id,
                                   struct dav_ace **out, size_t *n);
    /* Replace the entries carried by 'res' (paths of aces are ignored). */
    enum dav_store_rc (*aces_replace)(struct dav_req *req,
                                      const struct dav_resource *res,
                                      const struct dav_ace *aces, size_t n);
    enum dav_store_rc (*space_members)(struct dav_req *req, int64_t space_id,
                                       struct dav_member **out, size_t *n);
    /* Users that viewer_id may see (itself and those sharing a space with
     * it), optionally only 'name'. */
    enum dav_store_rc (*users_visible)(struct dav_req *req, int64_t viewer_id,
                                       const char *name,
                                       struct dav_user **out, size_t *n);
    /* The user's personal space (created on first use, the user being its
     * manager). */
    enum dav_store_rc (*personal_space)(struct dav_req *req, int64_t user_id,
                                        const char *user_name,
                                        struct dav_space *out);
    /* The calendars a user reaches: in the personal space and in every
     * space it is a member of. */
    enum dav_store_rc (*calendars_of_user)(struct dav_req *req,
                                           int64_t user_id,
                                           struct dav_calendar_ref **out,
                                           size_t *n);
    /* A collection's place in the change log, its sync token and CTag
     * (decision 0018). */
    enum dav_store_rc (*collection_mark)(struct dav_req *req,
                                         int64_t collection_id,
                                         struct dav_sync_mark *mark);
    /* Members of a collection changed by the transaction 'from' or a
     * later one (a mark's 'from'): their names, whether the last change
     * removed them, and the collection's mark, read before them.
     * RETRY-free; NOTFOUND when 'from' is not a transaction seen yet, or
     * when a member that left since was hidden by access control entries
     * of its own (its name must not reach whom they hid it from). */
    enum dav_store_rc (*changes_since)(struct dav_req *req,
                                       int64_t collection_id, int64_t from,
                                       const char ***names, bool **deleted,
                                       size_t *n, struct dav_sync_mark *now);
    /* The revisions of a file, oldest first. */
    enum dav_store_rc (*revisions)(struct dav_req *req, int64_t resource_id,
                                   struct dav_revision **out, size_t *n);
    /* When revision rev_id was stored (seconds since the epoch). */
    enum dav_store_rc (*revision_time)(struct dav_req *req, int64_t rev_id,
                                       int64_t *created);
    /* A new revision of file res with the content of revision rev_id (of
     * the same space), with 'comment' (NULL: "restored from revision N");
     * res is updated. */
    enum dav_store_rc (*revision_restore)(struct dav_req *req,
                                          struct dav_resource *res,
                                          int64_t rev_id, int64_t author_id,
                                          const char *comment);
    /* Set the approval state; "approved" pins the current revision. */
    enum dav_store_rc (*approval_set)(struct dav_req *req,
                                      const struct dav_resource *res,
                                      const char *state, int64_t by);
    enum dav_store_rc (*approval_comment_set)(struct dav_req *req,
                                              const struct dav_resource *res,
                                              const char *comment);
    /* Published view: a resource as published (a file shows its approved
     * revision; a folder exists if something below it is approved). */
    enum dav_store_rc (*published_lookup)(struct dav_req *req,
                                          int64_t space_id, const char *path,
                                          struct dav_resource *out);
    enum dav_store_rc (*published_children)(struct dav_req *req,
                                            int64_t space_id,
                                            const char *path,
                                            struct dav_resource **out,
                                            size_t *n);
    /* Files of a space awaiting approval. */
    enum dav_store_rc (*submitted)(struct dav_req *req, int64_t space_id,
                                   struct dav_resource **out, size_t *n);
    /* Move the tree at path to the space's trash; *entry is its new path. */
    enum dav_store_rc (*trash)(struct dav_req *req, int64_t space_id,
                               const char *path, int64_t by,
                               const char **entry);
    /* The node may stop keeping its copy of content (space_id, sha256):
     * a file holding it left the space (a DELETE).  Only a cache is
     * touched; a later read of the content finds it in the store.  NULL
     * in stores without a node cache. */
    void (*content_cold)(struct dav_req *req, int64_t space_id,
                         const unsigned char sha256[32]);
    /* Does the tree at path hold an approved revision? */
    enum dav_store_rc (*tree_has_approved)(struct dav_req *req,
                                           int64_t space_id, const char *path,
                                           bool *yes);
    /* Note that file resource_id, at revision rev_id, was renamed by
     * user_id from 'from' to 'to' (a temporary name in its folder): a save
     * that then moves a new file to 'from' makes it the file's next
     * revision (renamed_away_take).  With doc_id, note instead that file
     * resource_id at 'from' is the copy such a save left of document
     * doc_id, now at 'to' (disposable).  Notes an hour old are dropped. */
    enum dav_store_rc (*renamed_away_note)(struct dav_req *req,
                                           int64_t space_id,
                                           const char *from, const char *to,
                                           int64_t resource_id,
                                           int64_t rev_id, int64_t user_id,
                                           int64_t doc_id);
    /* May file res, at 'path' of its space ('audit_path' in the audit
     * trail), be removed for good rather than trashed?  Only if it was
     * never submitted nor approved, and either it is the copy a save
     * left there (renamed_away_note with doc_id) within the hour, with
     * the same revision and dead properties, and its content is still a
     * revision of the document; or, with 'lock_name', it holds a single
     * revision and was created at that path (its PUT or LOCK there
     * answered 201). */
    enum dav_store_rc (*disposable)(struct dav_req *req,
                                    const struct dav_resource *res,
                                    const char *path, const char *audit_path,
                                    bool lock_name, bool *yes);
    /* Take (remove) the note of a file renamed away from 'path' by
     * user_id within the last 'within' seconds: where it went and what it
     * was then.  NOTFOUND when there is none. */
    enum dav_store_rc (*renamed_away_take)(struct dav_req *req,
                                           int64_t space_id, const char *path,
                                           int64_t user_id, int within,
                                           const char **to,
                                           int64_t *resource_id,
                                           int64_t *rev_id);
    /* Receipts of res's approved revision: every member of its space and
     * every user granted access there, with the first read. */
    enum dav_store_rc (*receipts)(struct dav_req *req,
                                  const struct dav_resource *res,
                                  struct dav_receipt **out, size_t *n);
    /* Audit rows of one path ("slug/path"), oldest first. */
    enum dav_store_rc (*audit_of)(struct dav_req *req, int64_t space_id,
                                  const char *path, struct dav_audit **out,
                                  size_t *n);
    /* Append a row to the audit trail (chained by the database). */
    enum dav_store_rc (*audit_add)(struct dav_req *req,
                                   const struct dav_audit *a);
    /* A space by slug whatever the principal (for ACL principals). */
    enum dav_store_rc (*space_by_slug)(struct dav_req *req, const char *slug,
                                       struct dav_space *out);
};

#endif
