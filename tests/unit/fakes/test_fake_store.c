/*
 * tests/unit/fakes/test_fake_store.c -- the fake store keeps its own
 * promises: the torture tests are only as good as its rollback, its
 * failure injector and its dump.
 */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dav/dav.h"
#include "tests/unit/fakes/fake_store.h"

static const struct dav_store_ops *st;
static int64_t uid, sid;

/* A bare request: the fake only needs the arena. */
static struct dav_req *
new_req(void)
{
    struct arena *a = arena_create();
    struct dav_req *req = arena_alloc(a, sizeof(*req));
    req->arena = a;
    return req;
}

static void
free_req(struct dav_req *req)
{
    arena_destroy(req->arena);
}

static int
setup(void **state)
{
    st = fake_store_ops();
    fake_store_reset();
    uid = fake_store_add_user("alice");
    sid = fake_store_add_space("team", "Team");
    fake_store_add_member(sid, uid, "editor");
    return unit_arena_setup(state);
}

static int
teardown(void **state)
{
    assert_false(fake_store_in_txn());
    return unit_arena_teardown(state);
}

#define FS_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* Store content as one file revision (inside the caller's txn). */
static void
put_file(struct dav_req *req, const char *path, const char *text,
         struct dav_resource *res)
{
    size_t n = strlen(text);
    unsigned char sha[32];
    sha256_once(text, n, sha);
    assert_int_equal(st->create(req, sid, path, DAV_KIND_FILE, res),
                     DAV_STORE_OK);
    struct dav_chunk_ref ref;
    memcpy(ref.sha256, sha, 32);
    ref.offset = 0;
    ref.size = (int32_t)n;
    assert_int_equal(st->chunk_put(req, sid, sha, text, n), DAV_STORE_OK);
    assert_int_equal(st->revision_add(req, res, uid, (int64_t)n,
                                      "text/plain", sha, &ref, 1),
                     DAV_STORE_OK);
}

/* A new revision of file res with 'text' (inside the caller's txn). */
static void
put_rev(struct dav_req *req, struct dav_resource *res, const char *text)
{
    size_t n = strlen(text);
    unsigned char sha[32];
    sha256_once(text, n, sha);
    struct dav_chunk_ref ref;
    memcpy(ref.sha256, sha, 32);
    ref.offset = 0;
    ref.size = (int32_t)n;
    assert_int_equal(st->chunk_put(req, res->space_id, sha, text, n),
                     DAV_STORE_OK);
    assert_int_equal(st->revision_add(req, res, uid, (int64_t)n,
                                      "text/plain", sha, &ref, 1),
                     DAV_STORE_OK);
}

/* The current content of res, in req->arena. */
static const char *
content_of(struct dav_req *req, const struct dav_resource *res)
{
    struct dav_chunk_ref *refs;
    size_t n;
    assert_int_equal(st->content_chunks(req, res, &refs, &n), DAV_STORE_OK);
    char *text = arena_alloc(req->arena, (size_t)res->size + 1);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(st->chunk_read(req, res->space_id, refs[i].sha256,
                                        0, (size_t)refs[i].size,
                                        text + refs[i].offset),
                         DAV_STORE_OK);
    text[res->size] = '\0';
    return text;
}

static void
test_every_op_is_set(void **state)
{
    (void)state;
    assert_non_null(st->txn_begin);
    assert_non_null(st->txn_commit);
    assert_non_null(st->txn_rollback);
    assert_non_null(st->user_by_name);
    assert_non_null(st->read_begin);
    assert_non_null(st->space_for_user);
    assert_non_null(st->space_lookup);
    assert_non_null(st->spaces_of_user);
    assert_non_null(st->lookup);
    assert_non_null(st->children);
    assert_non_null(st->children_count);
    assert_non_null(st->children_open);
    assert_non_null(st->children_next);
    assert_non_null(st->props_get);
    assert_non_null(st->prop_set);
    assert_non_null(st->prop_remove);
    assert_non_null(st->create);
    assert_non_null(st->chunk_put);
    assert_non_null(st->revision_add);
    assert_non_null(st->content_chunks);
    assert_non_null(st->chunk_read);
    assert_non_null(st->chunk_local);
    assert_non_null(st->content_fd);
    assert_non_null(st->remove);
    assert_non_null(st->copy);
    assert_non_null(st->move);
    assert_non_null(st->ping);
    assert_non_null(st->locks_find);
    assert_non_null(st->lock_create);
    assert_non_null(st->lock_refresh);
    assert_non_null(st->lock_remove);
    assert_non_null(st->quota_get);
    assert_non_null(st->quota_lock);
    assert_non_null(st->tree_size);
    assert_non_null(st->mtime_set);
    assert_non_null(st->principal_valid);
    assert_non_null(st->app_passwords);
    assert_non_null(st->aces_find);
    assert_non_null(st->aces_replace);
    assert_non_null(st->space_members);
    assert_non_null(st->users_visible);
    assert_non_null(st->personal_space);
    assert_non_null(st->calendars_of_user);
    assert_non_null(st->collection_mark);
    assert_non_null(st->changes_since);
    assert_non_null(st->revisions);
    assert_non_null(st->revision_time);
    assert_non_null(st->revision_restore);
    assert_non_null(st->approval_set);
    assert_non_null(st->approval_comment_set);
    assert_non_null(st->published_lookup);
    assert_non_null(st->published_children);
    assert_non_null(st->submitted);
    assert_non_null(st->trash);
    assert_non_null(st->content_cold);
    assert_non_null(st->tree_has_approved);
    assert_non_null(st->renamed_away_note);
    assert_non_null(st->renamed_away_take);
    assert_non_null(st->disposable);
    assert_non_null(st->receipts);
    assert_non_null(st->audit_of);
    assert_non_null(st->audit_add);
    assert_non_null(st->space_by_slug);
    assert_non_null(st->stamp_now);
    assert_non_null(st->stamp_of);
    assert_non_null(st->read_whole);
    /* and nothing beyond: a new operation must be added here and to the
     * fake (this is the number of members of struct dav_store_ops) */
    assert_int_equal(sizeof(struct dav_store_ops),
                     66 * sizeof(st->ping));
    /* every slot, whatever its name: the table is only function
     * pointers, so a member added but left NULL is caught even before
     * this list is brought up to date */
    void (*slots[sizeof(struct dav_store_ops) / sizeof(st->ping)])(void);
    assert_int_equal(sizeof(slots), sizeof(*st));
    memcpy(slots, st, sizeof(slots));
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
        if (slots[i] == NULL)
            fail_msg("operation #%zu of struct dav_store_ops is not set", i);
}

static void
test_fail_at_counts_every_call(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    struct dav_resource r;
    fake_store_fail_at(3);
    assert_int_equal(st->ping(req), DAV_STORE_OK);
    assert_int_equal(st->lookup(req, sid, "", false, &r), DAV_STORE_OK);
    assert_false(fake_store_failed());
    assert_int_equal(st->lookup(req, sid, "", false, &r), DAV_STORE_ERROR);
    assert_true(fake_store_failed());
    assert_int_equal(st->ping(req), DAV_STORE_OK);
    assert_int_equal(fake_store_calls(), 4);
    /* another code, and k = 0 never fails */
    fake_store_fail_at_rc(1, DAV_STORE_RETRY);
    assert_int_equal(st->ping(req), DAV_STORE_RETRY);
    fake_store_fail_at(0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(st->ping(req), DAV_STORE_OK);
    assert_false(fake_store_failed());
    assert_int_equal(fake_store_calls(), 10);
    free_req(req);
}

static void
test_rollback_restores_everything(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    struct dav_resource f, d;
    /* committed content to start from */
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    put_file(req, "/keep.txt", "keep", &f);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);
    char *before = fake_store_dump();

    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_true(fake_store_in_txn());
    put_file(req, "/new.txt", "new", &f);
    put_file(req, "/keep2.txt", "keep", &f);
    assert_int_equal(st->create(req, sid, "/dir", DAV_KIND_COLLECTION, &d),
                     DAV_STORE_OK);
    assert_int_equal(st->prop_set(req, &d, "urn:x", "p",
                                  "<p xmlns=\"urn:x\"/>"),
                     DAV_STORE_OK);
    assert_int_equal(st->copy(req, sid, "/keep.txt", sid, "/dir/k", false,
                              uid), DAV_STORE_OK);
    assert_int_equal(st->move(req, sid, "/new.txt", sid, "/dir/n"),
                     DAV_STORE_OK);
    assert_int_equal(st->remove(req, sid, "/keep.txt"), DAV_STORE_OK);
    char *during = fake_store_dump();
    assert_string_not_equal(during, before);
    st->txn_rollback(req);
    char *after = fake_store_dump();
    assert_string_equal(after, before);
    assert_true(fake_store_exists(sid, "/keep.txt"));
    assert_false(fake_store_exists(sid, "/dir"));
    assert_int_equal(fake_store_violations(), 0);
    free(before);
    free(during);
    free(after);
    free_req(req);
}

static void
test_commit_keeps_and_failed_commit_restores(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    struct dav_resource r;
    char *before = fake_store_dump();
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->create(req, sid, "/a", DAV_KIND_COLLECTION, &r),
                     DAV_STORE_OK);
    fake_store_fail_at(1); /* the commit */
    assert_int_equal(st->txn_commit(req), DAV_STORE_ERROR);
    assert_false(fake_store_in_txn());
    char *after = fake_store_dump();
    assert_string_equal(after, before);

    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->create(req, sid, "/a", DAV_KIND_COLLECTION, &r),
                     DAV_STORE_OK);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);
    assert_true(fake_store_exists(sid, "/a"));
    assert_int_equal(fake_store_violations(), 0);
    free(before);
    free(after);
    free_req(req);
}

static void
test_violations_are_counted(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    struct dav_resource r;
    /* a write outside a transaction */
    assert_int_equal(st->create(req, sid, "/x", DAV_KIND_COLLECTION, &r),
                     DAV_STORE_OK);
    assert_int_equal(fake_store_violations(), 1);
    /* a chunk whose bytes do not match its hash */
    unsigned char sha[32] = { 0 };
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->chunk_put(req, sid, sha, "x", 1), DAV_STORE_OK);
    assert_int_equal(fake_store_violations(), 2);
    /* nested begin, then rollback without a transaction */
    assert_int_equal(st->txn_begin(req), DAV_STORE_ERROR);
    assert_int_equal(fake_store_violations(), 3);
    st->txn_rollback(req);
    st->txn_rollback(req);
    assert_int_equal(fake_store_violations(), 4);
    free_req(req);
}

static void
test_queries(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    struct dav_resource r, f;
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->create(req, sid, "/b", DAV_KIND_COLLECTION, &r),
                     DAV_STORE_OK);
    assert_int_equal(st->create(req, sid, "/a", DAV_KIND_COLLECTION, &r),
                     DAV_STORE_OK);
    assert_int_equal(st->create(req, sid, "/a", DAV_KIND_FILE, &r),
                     DAV_STORE_EXISTS);
    assert_int_equal(st->create(req, sid, "/none/x", DAV_KIND_FILE, &r),
                     DAV_STORE_CONFLICT);
    put_file(req, "/a/f.txt", "hello", &f);
    assert_int_equal(f.rev_num, 1);
    put_file(req, "/c.txt", "c", &r);
    assert_int_equal(st->prop_set(req, &f, "urn:x", "z", "<z/>"),
                     DAV_STORE_OK);
    assert_int_equal(st->prop_set(req, &r, "urn:x", "y", "<y/>"),
                     DAV_STORE_OK);
    assert_int_equal(st->prop_set(req, &f, "urn:x", "a", "<a/>"),
                     DAV_STORE_OK);
    assert_int_equal(st->prop_set(req, &f, "urn:x", "a", "<a>2</a>"),
                     DAV_STORE_OK);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);

    struct dav_resource *kids;
    size_t n;
    assert_int_equal(st->children(req, sid, "", &kids, &n), DAV_STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(kids[0].name, "a");
    assert_string_equal(kids[1].name, "b");
    assert_string_equal(kids[2].name, "c.txt");
    assert_string_equal(kids[2].path, "/c.txt");
    assert_int_equal(st->children(req, sid, "/a", &kids, &n), DAV_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(kids[0].path, "/a/f.txt");
    assert_int_equal(kids[0].size, 5);
    assert_string_equal(kids[0].content_type, "text/plain");

    /* properties grouped by resource, in resource order */
    int64_t ids[2] = { r.id, f.id };
    struct dav_dead_prop *dp;
    assert_int_equal(st->props_get(req, sid, ids, 2, &dp, &n), DAV_STORE_OK);
    assert_int_equal(n, 3);
    assert_true(dp[0].resource_id == f.id && dp[1].resource_id == f.id);
    assert_true(dp[2].resource_id == r.id);
    assert_string_equal(dp[0].name, "a");
    assert_string_equal(dp[0].xml, "<a>2</a>");
    assert_string_equal(dp[1].name, "z");

    /* content back, chunk by chunk */
    struct dav_chunk_ref *refs;
    assert_int_equal(st->content_chunks(req, &f, &refs, &n), DAV_STORE_OK);
    assert_int_equal(n, 1);
    char buf[8] = { 0 };
    assert_int_equal(st->chunk_read(req, sid, refs[0].sha256, 1, 3, buf),
                     DAV_STORE_OK);
    assert_string_equal(buf, "ell");
    assert_int_equal(st->chunk_read(req, sid, refs[0].sha256, 3, 3, buf),
                     DAV_STORE_ERROR);

    /* spaces */
    struct dav_space sp;
    assert_int_equal(st->space_for_user(req, "team", uid, &sp), DAV_STORE_OK);
    assert_string_equal(sp.role, "editor");
    assert_int_equal(st->space_for_user(req, "team", uid + 100, &sp),
                     DAV_STORE_NOTFOUND);
    assert_int_equal(st->lookup(req, sid, "/zz", false, &r),
                     DAV_STORE_NOTFOUND);
    assert_int_equal(fake_store_violations(), 0);
    free_req(req);
}

static struct dav_lock
mklock(const char *token, const char *root, bool infinite)
{
    struct dav_lock lk;
    memset(&lk, 0, sizeof(lk));
    lk.token = token;
    lk.space_id = sid;
    lk.root = root;
    lk.infinite = infinite;
    lk.exclusive = true;
    lk.principal_id = uid;
    lk.timeout = 600;
    return lk;
}

static void
test_locks_find(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    struct dav_resource r;
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->create(req, sid, "/a", DAV_KIND_COLLECTION, &r),
                     DAV_STORE_OK);
    assert_int_equal(st->create(req, sid, "/a/b", DAV_KIND_COLLECTION, &r),
                     DAV_STORE_OK);
    struct dav_lock l1 = mklock("urn:uuid:1", "/a", true);
    struct dav_lock l2 = mklock("urn:uuid:2", "/a/b", false);
    struct dav_lock l3 = mklock("urn:uuid:3", "/a/b/c", false);
    assert_int_equal(st->lock_create(req, &l1), DAV_STORE_OK);
    assert_true(l1.expires > time(NULL));
    assert_int_equal(st->lock_create(req, &l2), DAV_STORE_OK);
    assert_int_equal(st->lock_create(req, &l3), DAV_STORE_OK);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);

    struct dav_lock *out;
    size_t n;
    /* covering: rooted there, or depth infinity above */
    assert_int_equal(st->locks_find(req, sid, "/a/b", 0, &out, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].token, "urn:uuid:1");
    assert_string_equal(out[1].token, "urn:uuid:2");
    /* a depth-0 lock does not cover what is below it */
    assert_int_equal(st->locks_find(req, sid, "/a/b/x", 0, &out, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].token, "urn:uuid:1");
    /* with descendants */
    assert_int_equal(st->locks_find(req, sid, "/a/b", DAV_LOCKS_BELOW, &out, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(out[2].root, "/a/b/c");
    assert_int_equal(st->locks_find(req, sid, "", DAV_LOCKS_BELOW, &out, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(st->locks_find(req, sid, "/ab", 0, &out, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 0);
    /* with the parent's depth-0 locks: /a/b/x's parent holds urn:uuid:2 */
    assert_int_equal(st->locks_find(req, sid, "/a/b/x", DAV_LOCKS_PARENT,
                                    &out, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(out[1].token, "urn:uuid:2");
    /* /a/b/c/y's parent is locked (depth 0), /a/b is not its parent */
    assert_int_equal(st->locks_find(req, sid, "/a/b/c/y", DAV_LOCKS_PARENT,
                                    &out, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(out[1].token, "urn:uuid:3");
    /* "/ab"'s parent is the space root, which holds no lock */
    assert_int_equal(st->locks_find(req, sid, "/ab", DAV_LOCKS_PARENT,
                                    &out, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 0);

    /* refresh and removal; removing a tree drops the locks in it */
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    struct dav_lock nope = mklock("urn:uuid:nope", "/a", false);
    assert_int_equal(st->lock_refresh(req, &nope, 60), DAV_STORE_NOTFOUND);
    assert_int_equal(st->lock_refresh(req, &l2, 60), DAV_STORE_OK);
    assert_int_equal(l2.timeout, 60);
    assert_int_equal(st->lock_remove(req, "urn:uuid:1"), DAV_STORE_OK);
    assert_int_equal(st->remove(req, sid, "/a/b"), DAV_STORE_OK);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);
    assert_int_equal(fake_store_lock_count(), 0);
    assert_int_equal(fake_store_violations(), 0);
    free_req(req);
}

static void
test_access_entries_and_principals(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    int64_t bob = fake_store_add_user("bob");
    int64_t carol = fake_store_add_user("carol");
    int64_t other = fake_store_add_space("other", "Other");
    fake_store_add_member(other, carol, "reader");
    struct dav_resource r;
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->create(req, sid, "/a", DAV_KIND_COLLECTION, &r),
                     DAV_STORE_OK);
    struct dav_ace set[2] = {
        { NULL, true, bob, NULL, true, DAV_PRIV_READ },
        { NULL, false, other, NULL, false, DAV_PRIV_WRITE },
    };
    assert_int_equal(st->aces_replace(req, &r, set, 2), DAV_STORE_OK);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);
    assert_true(fake_store_add_ace(sid, "", true, carol, true,
                                   DAV_PRIV_READ));

    struct dav_ace *a;
    size_t n;
    /* all entries on /a/x's way, root first */
    assert_int_equal(st->aces_find(req, sid, "/a/x", 0, &a, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(a[0].path, "");
    assert_string_equal(a[0].principal_name, "carol");
    assert_string_equal(a[1].path, "/a");
    assert_string_equal(a[1].principal_name, "bob");
    assert_true(a[1].grant);
    assert_string_equal(a[2].principal_name, "other");
    assert_false(a[2].grant);
    /* those that apply to carol: hers, and her space's */
    assert_int_equal(st->aces_find(req, sid, NULL, carol, &a, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(st->aces_find(req, sid, "/b", 0, &a, &n), DAV_STORE_OK);
    assert_int_equal(n, 1);

    /* a grant makes the space visible to a non-member, with no role */
    struct dav_space sp;
    assert_int_equal(st->space_for_user(req, "team", bob, &sp), DAV_STORE_OK);
    assert_string_equal(sp.role, "");
    assert_true(sp.has_aces);
    assert_int_equal(st->space_by_slug(req, "other", &sp), DAV_STORE_OK);
    assert_int_equal(sp.id, other);

    /* users visible: oneself and those sharing a space */
    struct dav_user *u;
    fake_store_add_member(other, bob, "editor");
    assert_int_equal(st->users_visible(req, bob, NULL, &u, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(u[0].name, "bob");
    assert_string_equal(u[1].name, "carol");
    assert_int_equal(st->users_visible(req, uid, "carol", &u, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 0);
    struct dav_member *m;
    assert_int_equal(st->space_members(req, other, &m, &n), DAV_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(m[0].name, "bob");
    assert_string_equal(m[1].role, "reader");

    /* principals and app passwords */
    unsigned char sha[32];
    sha256_once("secret", 6, sha);
    int64_t ap = fake_store_add_app_password(bob, sha);
    assert_int_equal(st->principal_valid(req, bob, 0), DAV_STORE_OK);
    assert_int_equal(st->principal_valid(req, bob, ap), DAV_STORE_OK);
    assert_int_equal(st->principal_valid(req, carol, ap), DAV_STORE_NOTFOUND);
    struct dav_app_password *aps;
    assert_int_equal(st->app_passwords(req, bob, &aps, &n), DAV_STORE_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(aps[0].sha256, sha, 32);
    fake_store_revoke_app_password(ap);
    assert_int_equal(st->principal_valid(req, bob, ap), DAV_STORE_NOTFOUND);
    assert_int_equal(st->app_passwords(req, bob, &aps, &n), DAV_STORE_OK);
    assert_int_equal(n, 0);
    fake_store_set_user_disabled(bob, true);
    assert_int_equal(st->principal_valid(req, bob, 0), DAV_STORE_NOTFOUND);
    assert_int_equal(fake_store_violations(), 0);
    free_req(req);
}

static void
test_approval_published_and_trash(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    struct dav_resource d, f, e, r;
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->create(req, sid, "/d", DAV_KIND_COLLECTION, &d),
                     DAV_STORE_OK);
    assert_int_equal(st->create(req, sid, "/e", DAV_KIND_COLLECTION, &e),
                     DAV_STORE_OK);
    put_file(req, "/d/f.txt", "v1", &f);
    assert_string_equal(fake_store_approval_state(sid, "/d/f.txt"), "draft");

    /* submitted, then approved: the current revision is pinned */
    assert_int_equal(st->approval_set(req, &f, "submitted", uid),
                     DAV_STORE_OK);
    struct dav_resource *rs;
    size_t n;
    assert_int_equal(st->submitted(req, sid, &rs, &n), DAV_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rs[0].path, "/d/f.txt");
    assert_int_equal(st->published_lookup(req, sid, "/d/f.txt", &r),
                     DAV_STORE_NOTFOUND);
    assert_int_equal(st->approval_set(req, &f, "approved", uid),
                     DAV_STORE_OK);
    assert_int_equal(st->approval_comment_set(req, &f, "fine"),
                     DAV_STORE_OK);
    int64_t approved = f.rev_id;
    assert_int_equal(st->lookup(req, sid, "/d/f.txt", false, &r),
                     DAV_STORE_OK);
    assert_string_equal(r.approval_state, "approved");
    assert_string_equal(r.approval_comment, "fine");
    assert_int_equal(r.approved_rev, approved);
    assert_string_equal(r.approved_by, "alice");
    assert_true(r.approved_at >= FAKE_STORE_EPOCH);

    /* a new revision is a draft again; the published view keeps the
     * approved one */
    put_rev(req, &f, "version 2");
    assert_string_equal(fake_store_approval_state(sid, "/d/f.txt"), "draft");
    assert_int_equal(st->published_lookup(req, sid, "/d/f.txt", &r),
                     DAV_STORE_OK);
    assert_int_equal(r.rev_id, approved);
    assert_int_equal(r.rev_num, 1);
    assert_int_equal(r.size, 2);
    assert_string_equal(content_of(req, &r), "v1");
    assert_int_equal(st->lookup(req, sid, "/d/f.txt", false, &r),
                     DAV_STORE_OK);
    assert_int_equal(r.rev_num, 2);
    assert_string_equal(content_of(req, &r), "version 2");
    /* folders are published when they hold something approved */
    assert_int_equal(st->published_lookup(req, sid, "/d", &r), DAV_STORE_OK);
    assert_int_equal(r.rev_id, 0);
    assert_int_equal(st->published_lookup(req, sid, "/e", &r),
                     DAV_STORE_NOTFOUND);
    assert_int_equal(st->published_lookup(req, sid, "", &r), DAV_STORE_OK);
    assert_int_equal(st->published_children(req, sid, "", &rs, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(rs[0].name, "d");
    assert_int_equal(st->published_children(req, sid, "/d", &rs, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rs[0].rev_id, approved);
    bool yes;
    assert_int_equal(st->tree_has_approved(req, sid, "/d", &yes),
                     DAV_STORE_OK);
    assert_true(yes);
    assert_int_equal(st->tree_has_approved(req, sid, "/e", &yes),
                     DAV_STORE_OK);
    assert_false(yes);

    /* the trash: a numbered entry remembering where it came from */
    put_file(req, "/e/g.txt", "gg", &r);
    assert_int_equal(st->approval_set(req, &r, "submitted", uid),
                     DAV_STORE_OK);
    const char *entry;
    assert_int_equal(st->trash(req, sid, "/d", uid, &entry), DAV_STORE_OK);
    assert_string_equal(entry, "/.trash/1");
    assert_int_equal(st->trash(req, sid, "/e", 0, &entry), DAV_STORE_OK);
    assert_string_equal(entry, "/.trash/2");
    assert_int_equal(st->trash(req, sid, "/nope", uid, &entry),
                     DAV_STORE_NOTFOUND);
    assert_false(fake_store_exists(sid, "/d"));
    assert_int_equal(st->lookup(req, sid, "/.trash/1", false, &r),
                     DAV_STORE_OK);
    assert_string_equal(r.trashed_from, "/d");
    assert_string_equal(r.trashed_by, "alice");
    assert_true(r.trashed_at >= FAKE_STORE_EPOCH);
    assert_int_equal(st->lookup(req, sid, "/.trash/2", false, &r),
                     DAV_STORE_OK);
    assert_null(r.trashed_by);
    assert_int_equal(st->lookup(req, sid, "/.trash/1/f.txt", false, &r),
                     DAV_STORE_OK);
    assert_null(r.trashed_from);
    assert_int_equal(r.rev_num, 2);
    /* the trash is out of the published view, the approvals and the
     * quota, not out of tree_has_approved */
    assert_int_equal(st->published_lookup(req, sid, "/.trash/1/f.txt", &r),
                     DAV_STORE_NOTFOUND);
    assert_int_equal(st->published_children(req, sid, "", &rs, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(st->submitted(req, sid, &rs, &n), DAV_STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(st->tree_has_approved(req, sid, "/.trash/1", &yes),
                     DAV_STORE_OK);
    assert_true(yes);
    int64_t used, limit, disk, size, members;
    assert_int_equal(st->quota_get(req, sid, &used, &limit, &disk),
                     DAV_STORE_OK);
    assert_int_equal(used, 0);
    assert_int_equal(st->tree_size(req, sid, "/.trash", &size, &members),
                     DAV_STORE_OK);
    assert_int_equal(size, 9 + 2);
    /* the trash, its two entries and a file in each */
    assert_int_equal(members, 5);
    /* moved out, an entry forgets the trash */
    assert_int_equal(st->move(req, sid, "/.trash/1", sid, "/back"),
                     DAV_STORE_OK);
    assert_int_equal(st->lookup(req, sid, "/back", false, &r), DAV_STORE_OK);
    assert_null(r.trashed_from);
    assert_null(r.trashed_by);
    assert_int_equal(r.trashed_at, 0);
    assert_int_equal(st->published_lookup(req, sid, "/back/f.txt", &r),
                     DAV_STORE_OK);
    assert_int_equal(st->quota_get(req, sid, &used, &limit, &disk),
                     DAV_STORE_OK);
    assert_int_equal(used, 9);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);
    assert_int_equal(fake_store_violations(), 0);

    /* a state the database refuses */
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->approval_set(req, &f, "bogus", uid),
                     DAV_STORE_ERROR);
    st->txn_rollback(req);
    assert_int_equal(fake_store_violations(), 1);
    free_req(req);
}

static void
test_revisions_and_restore(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    int64_t other = fake_store_add_space("other", "Other");
    struct dav_resource f, g;
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    put_file(req, "/f.txt", "one", &f);
    int64_t first = f.rev_id;
    put_rev(req, &f, "second");
    assert_int_equal(st->approval_set(req, &f, "approved", uid),
                     DAV_STORE_OK);
    assert_int_equal(st->create(req, other, "/g.txt", DAV_KIND_FILE, &g),
                     DAV_STORE_OK);

    struct dav_revision *v;
    size_t n;
    assert_int_equal(st->revisions(req, f.id, &v, &n), DAV_STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].num, 1);
    assert_int_equal(v[0].id, first);
    assert_string_equal(v[0].author, "alice");
    assert_int_equal(v[0].size, 3);
    assert_string_equal(v[0].content_type, "text/plain");
    assert_null(v[0].comment);
    assert_false(v[0].approved);
    assert_int_equal(v[1].num, 2);
    assert_true(v[1].approved);

    /* a restore is a new revision with the old content */
    assert_int_equal(st->revision_restore(req, &f, first, 0, NULL),
                     DAV_STORE_OK);
    assert_int_equal(f.rev_num, 3);
    assert_int_equal(f.size, 3);
    assert_string_equal(content_of(req, &f), "one");
    assert_string_equal(fake_store_approval_state(sid, "/f.txt"), "draft");
    assert_int_equal(st->revisions(req, f.id, &v, &n), DAV_STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[2].comment, "restored from revision 1");
    assert_string_equal(v[2].author, ""); /* no author */
    assert_false(v[2].approved);
    /* only from a revision of the same space */
    assert_int_equal(st->revision_restore(req, &g, first, uid, NULL),
                     DAV_STORE_NOTFOUND);
    assert_int_equal(st->revision_restore(req, &f, 999999, uid, NULL),
                     DAV_STORE_NOTFOUND);
    assert_int_equal(st->revisions(req, g.id, &v, &n), DAV_STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);
    assert_int_equal(fake_store_violations(), 0);
    free_req(req);
}

static void
test_change_log(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    struct dav_resource root, a, x, b;
    assert_int_equal(st->lookup(req, sid, "", false, &root), DAV_STORE_OK);
    struct dav_sync_mark mark, now;
    assert_int_equal(st->collection_mark(req, root.id, &mark), DAV_STORE_OK);
    assert_int_equal(mark.from, 1);
    assert_int_equal(mark.seen, 0);

    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->create(req, sid, "/a", DAV_KIND_COLLECTION, &a),
                     DAV_STORE_OK);
    put_file(req, "/a/x.txt", "x", &x);
    assert_int_equal(st->create(req, sid, "/b", DAV_KIND_COLLECTION, &b),
                     DAV_STORE_OK);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);
    const char **names;
    bool *deleted;
    size_t n;
    assert_int_equal(st->changes_since(req, root.id, 0, &names, &deleted, &n,
                                       &now), DAV_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "a");
    assert_string_equal(names[1], "b");
    assert_false(deleted[0]);
    assert_int_equal(st->collection_mark(req, root.id, &mark), DAV_STORE_OK);
    assert_int_equal(mark.from, now.from);
    assert_int_equal(mark.seen, now.seen);
    assert_true(now.from > 1);
    /* nothing since the mark */
    assert_int_equal(st->changes_since(req, root.id, now.from, &names,
                                       &deleted, &n, &mark), DAV_STORE_OK);
    assert_int_equal(n, 0);
    /* a file is logged when bound and when its content changes */
    struct dav_sync_mark in_a;
    assert_int_equal(st->collection_mark(req, a.id, &in_a), DAV_STORE_OK);
    assert_true(in_a.from > 1 && in_a.from < now.from);
    assert_int_equal(st->changes_since(req, a.id, 0, &names, &deleted, &n,
                                       &in_a), DAV_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "x.txt");

    /* later: a property, an unchanged mtime (nothing), a move, a removal */
    size_t logged = fake_store_change_count();
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->mtime_set(req, &x, x.modified), DAV_STORE_OK);
    assert_int_equal(fake_store_change_count(), logged);
    assert_int_equal(st->prop_remove(req, &x, "urn:x", "none"),
                     DAV_STORE_OK);
    assert_int_equal(fake_store_change_count(), logged);
    assert_int_equal(st->prop_set(req, &x, "urn:x", "p", "<p/>"),
                     DAV_STORE_OK);
    assert_int_equal(st->move(req, sid, "/b", sid, "/c"), DAV_STORE_OK);
    assert_int_equal(st->remove(req, sid, "/a"), DAV_STORE_OK);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);
    struct dav_sync_mark later;
    assert_int_equal(st->changes_since(req, root.id, now.from, &names,
                                       &deleted, &n, &later), DAV_STORE_OK);
    assert_true(later.from > now.from);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "a");
    assert_true(deleted[0]);
    assert_string_equal(names[1], "b");
    assert_true(deleted[1]);
    assert_string_equal(names[2], "c");
    assert_false(deleted[2]);
    /* a token from the future is unknown */
    assert_int_equal(st->changes_since(req, root.id, later.from + 1, &names,
                                       &deleted, &n, &now),
                     DAV_STORE_NOTFOUND);
    assert_int_equal(fake_store_violations(), 0);
    free_req(req);
}

static void
test_audit_and_receipts(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    int64_t bob = fake_store_add_user("bob");
    int64_t carol = fake_store_add_user("carol");
    (void)fake_store_add_user("dave");
    fake_store_add_member(sid, bob, "reader");
    assert_true(fake_store_add_ace(sid, "", true, carol, true,
                                   DAV_PRIV_READ));
    struct dav_resource f;
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    put_file(req, "/f.txt", "text", &f);
    assert_int_equal(st->approval_set(req, &f, "approved", uid),
                     DAV_STORE_OK);
    assert_int_equal(st->lookup(req, sid, "/f.txt", false, &f),
                     DAV_STORE_OK);
    struct dav_audit a = {
        .action = "PUT", .principal = "alice", .client = "192.0.2.1",
        .space_id = sid, .path = "team/f.txt", .resource_id = f.id,
        .revision_id = f.rev_id, .status = 201,
    };
    assert_int_equal(st->audit_add(req, &a), DAV_STORE_OK);
    a.action = "GET";
    a.principal = "bob";
    a.status = 200;
    assert_int_equal(st->audit_add(req, &a), DAV_STORE_OK);
    a.principal = "carol";
    a.status = 404; /* not a read */
    assert_int_equal(st->audit_add(req, &a), DAV_STORE_OK);
    a.space_id = 0; /* no space: never found by space */
    a.principal = "dave"; /* who is no recipient */
    a.status = 200;
    a.detail = "elsewhere";
    assert_int_equal(st->audit_add(req, &a), DAV_STORE_OK);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);

    struct dav_audit *rows;
    size_t n;
    assert_int_equal(st->audit_of(req, sid, "team/f.txt", &rows, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].action, "PUT");
    assert_string_equal(rows[0].principal, "alice");
    assert_int_equal(rows[0].status, 201);
    assert_int_equal(rows[0].revision_id, f.rev_id);
    assert_string_equal(rows[1].principal, "bob");
    assert_int_equal(rows[2].status, 404);
    assert_true(rows[0].at >= FAKE_STORE_EPOCH);
    assert_int_equal(st->audit_of(req, sid, "team/g.txt", &rows, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(fake_store_audit_count("GET", "team/f.txt", 200), 2);

    /* receipts: members and users granted access, with their first read */
    struct dav_receipt *rc;
    assert_int_equal(st->receipts(req, &f, &rc, &n), DAV_STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(rc[0].user, "alice");
    assert_int_equal(rc[0].read_at, 0);
    assert_string_equal(rc[1].user, "bob");
    assert_true(rc[1].read_at >= FAKE_STORE_EPOCH);
    assert_string_equal(rc[2].user, "carol");
    assert_int_equal(rc[2].read_at, 0);
    assert_int_equal(fake_store_violations(), 0);
    free_req(req);
}

static void
test_personal_space_and_calendars(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    int64_t bob = fake_store_add_user("bob");
    int64_t other = fake_store_add_space("other", "Other");
    int64_t agenda = fake_store_add_calendar(sid, "agenda", "VEVENT");
    (void)fake_store_add_calendar(other, "hidden", "VEVENT");
    struct dav_space sp, again;
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->personal_space(req, uid, "alice", &sp),
                     DAV_STORE_OK);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);
    char slug[32];
    snprintf(slug, sizeof(slug), "p-%lld", (long long)uid);
    assert_string_equal(sp.slug, slug);
    assert_string_equal(sp.title, "alice");
    assert_string_equal(sp.role, "manager");
    assert_int_equal(sp.quota, -1);
    assert_true(fake_store_exists(sp.id, DAV_CAL_FOLDER));
    /* made once; found outside a transaction afterwards */
    assert_int_equal(st->personal_space(req, uid, "alice", &again),
                     DAV_STORE_OK);
    assert_int_equal(again.id, sp.id);
    assert_int_equal(st->space_for_user(req, slug, uid, &again),
                     DAV_STORE_OK);
    assert_string_equal(again.role, "manager");
    assert_int_equal(fake_store_violations(), 0);

    (void)fake_store_add_calendar(sp.id, "home", "VEVENT,VTODO");
    struct dav_calendar_ref *c;
    size_t n;
    assert_int_equal(st->calendars_of_user(req, uid, &c, &n), DAV_STORE_OK);
    assert_int_equal(n, 2);
    assert_true(c[0].personal);
    assert_string_equal(c[0].name, "home");
    assert_string_equal(c[0].res.components, "VEVENT,VTODO");
    assert_int_equal(c[0].res.subtype, DAV_SUBTYPE_CALENDAR);
    assert_string_equal(c[0].space.role, "manager");
    assert_false(c[1].personal);
    assert_string_equal(c[1].name, "agenda");
    assert_int_equal(c[1].res.id, agenda);
    assert_string_equal(c[1].space.slug, "team");
    assert_string_equal(c[1].space.role, "editor");
    assert_int_equal(st->calendars_of_user(req, bob, &c, &n), DAV_STORE_OK);
    assert_int_equal(n, 0);
    /* a plain collection is no calendar */
    struct dav_resource r;
    assert_int_equal(st->lookup(req, sid, DAV_CAL_FOLDER, false, &r),
                     DAV_STORE_OK);
    assert_int_equal(r.subtype, DAV_SUBTYPE_PLAIN);
    assert_null(r.components);

    /* guests expire on the wall clock */
    struct dav_user u;
    fake_store_set_guest(bob, time(NULL) - 1);
    assert_int_equal(st->principal_valid(req, bob, 0), DAV_STORE_NOTFOUND);
    assert_int_equal(st->user_by_name(req, "bob", &u), DAV_STORE_OK);
    assert_true(u.guest);
    assert_true(u.disabled);
    fake_store_set_guest(bob, time(NULL) + 3600);
    assert_int_equal(st->principal_valid(req, bob, 0), DAV_STORE_OK);
    assert_int_equal(fake_store_violations(), 0);
    free_req(req);
}

/* Every kind of row the new operations write is rolled back. */
static void
test_rollback_covers_every_table(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    struct dav_resource d, f;
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->create(req, sid, "/d", DAV_KIND_COLLECTION, &d),
                     DAV_STORE_OK);
    put_file(req, "/d/f.txt", "one", &f);
    int64_t first = f.rev_id;
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);
    char *before = fake_store_dump();

    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    put_rev(req, &f, "two");
    assert_int_equal(st->approval_set(req, &f, "approved", uid),
                     DAV_STORE_OK);
    assert_int_equal(st->approval_comment_set(req, &f, "ok"), DAV_STORE_OK);
    assert_int_equal(st->revision_restore(req, &f, first, uid, NULL),
                     DAV_STORE_OK);
    assert_int_equal(st->mtime_set(req, &f, 1234567890), DAV_STORE_OK);
    const char *entry;
    assert_int_equal(st->trash(req, sid, "/d", uid, &entry), DAV_STORE_OK);
    struct dav_audit a = { .action = "DELETE", .space_id = sid,
                           .path = "team/d", .status = 204 };
    assert_int_equal(st->audit_add(req, &a), DAV_STORE_OK);
    struct dav_space sp;
    assert_int_equal(st->personal_space(req, uid, "alice", &sp),
                     DAV_STORE_OK);
    char *during = fake_store_dump();
    assert_string_not_equal(during, before);
    st->txn_rollback(req);
    char *after = fake_store_dump();
    assert_string_equal(after, before);
    assert_true(fake_store_exists(sid, "/d/f.txt"));
    assert_int_equal(fake_store_audit_count(NULL, NULL, 0), 0);

    /* and the same state again gives the same names and numbers */
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    assert_int_equal(st->trash(req, sid, "/d", uid, &entry), DAV_STORE_OK);
    assert_string_equal(entry, "/.trash/1");
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);
    assert_int_equal(fake_store_violations(), 0);
    free(before);
    free(during);
    free(after);
    free_req(req);
}

/* Each new operation is a failure point of the injector. */
static void
test_new_ops_can_fail(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    struct dav_resource f, r;
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    put_file(req, "/f.txt", "one", &f);
    assert_int_equal(st->txn_commit(req), DAV_STORE_OK);
    char *before = fake_store_dump();
    struct dav_sync_mark mark, now;
    bool yes;
    size_t n;
    const char **names;
    bool *deleted;
    const char *entry;
    struct dav_space sp;
    struct dav_calendar_ref *cals;
    struct dav_revision *revs;
    struct dav_resource *rs;
    struct dav_receipt *rc;
    struct dav_audit *rows;
    struct dav_audit a = { .action = "X" };
    int64_t rid, rrev;
    for (int op = 0; op < 19; op++) {
        assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
        fake_store_fail_at(1);
        enum dav_store_rc got = DAV_STORE_OK;
        switch (op) {
        case 0: got = st->personal_space(req, uid, "alice", &sp); break;
        case 1: got = st->calendars_of_user(req, uid, &cals, &n); break;
        case 2: got = st->collection_mark(req, f.id, &mark); break;
        case 3:
            got = st->changes_since(req, f.id, 0, &names, &deleted, &n, &now);
            break;
        case 4: got = st->revisions(req, f.id, &revs, &n); break;
        case 5: got = st->revision_restore(req, &f, f.rev_id, uid, NULL); break;
        case 6: got = st->approval_set(req, &f, "approved", uid); break;
        case 7: got = st->approval_comment_set(req, &f, "c"); break;
        case 8: got = st->published_lookup(req, sid, "", &r); break;
        case 9: got = st->published_children(req, sid, "", &rs, &n); break;
        case 10: got = st->submitted(req, sid, &rs, &n); break;
        case 11: got = st->trash(req, sid, "/f.txt", uid, &entry); break;
        case 12: got = st->tree_has_approved(req, sid, "", &yes); break;
        case 13: got = st->receipts(req, &f, &rc, &n); break;
        case 14: got = st->audit_of(req, sid, "team/f.txt", &rows, &n); break;
        case 15: got = st->audit_add(req, &a); break;
        case 16:
            got = st->renamed_away_note(req, sid, "/f.txt", "/~f.tmp", f.id,
                                        f.rev_id, uid, 0);
            break;
        case 17:
            got = st->renamed_away_take(req, sid, "/f.txt", uid, 60, &entry,
                                        &rid, &rrev);
            break;
        case 18:
            got = st->disposable(req, &f, "/f.txt", "team/f.txt", true,
                                 &yes);
            break;
        }
        if (got != DAV_STORE_ERROR || !fake_store_failed())
            fail_msg("operation %d did not fail", op);
        assert_int_equal(fake_store_calls(), 1);
        fake_store_fail_at(0);
        st->txn_rollback(req);
    }
    char *after = fake_store_dump();
    assert_string_equal(after, before);
    assert_int_equal(fake_store_violations(), 0);
    free(before);
    free(after);
    free_req(req);
}

/* A note is taken once, by its user, while fresh. */
static void
test_renamed_away(void **state)
{
    (void)state;
    struct dav_req *req = new_req();
    struct dav_resource f;
    const char *to;
    int64_t id, rev;
    assert_int_equal(st->txn_begin(req), DAV_STORE_OK);
    put_file(req, "/doc.odt", "one", &f);
    assert_int_equal(st->renamed_away_note(req, sid, "/doc.odt",
                                           "/~WRL0001.tmp", f.id, f.rev_id,
                                           uid, 0),
                     DAV_STORE_OK);
    assert_int_equal(st->renamed_away_take(req, sid, "/doc.odt", uid + 1, 60,
                                           &to, &id, &rev),
                     DAV_STORE_NOTFOUND);
    assert_int_equal(st->renamed_away_take(req, sid, "/doc.odt", uid, 60,
                                           &to, &id, &rev),
                     DAV_STORE_OK);
    assert_string_equal(to, "/~WRL0001.tmp");
    assert_int_equal(id, f.id);
    assert_int_equal(rev, f.rev_id);
    assert_int_equal(st->renamed_away_take(req, sid, "/doc.odt", uid, 60,
                                           &to, &id, &rev),
                     DAV_STORE_NOTFOUND);
    /* stale: the fake's clock moves one second a write */
    assert_int_equal(st->renamed_away_note(req, sid, "/doc.odt",
                                           "/~WRL0002.tmp", f.id, f.rev_id,
                                           uid, 0),
                     DAV_STORE_OK);
    put_file(req, "/other.odt", "two", &f);
    put_file(req, "/third.odt", "three", &f);
    assert_int_equal(st->renamed_away_take(req, sid, "/doc.odt", uid, 0,
                                           &to, &id, &rev),
                     DAV_STORE_NOTFOUND);
    /* a kept copy (/~WRL0003.tmp, a copy of doc.odt) is no note to
     * take, and is disposable while unchanged at its place */
    struct dav_resource doc, copy;
    assert_int_equal(st->lookup(req, sid, "/doc.odt", false, &doc),
                     DAV_STORE_OK);
    put_file(req, "/~WRL0003.tmp", "one", &copy);
    bool yes;
    assert_int_equal(st->renamed_away_note(req, sid, "/~WRL0003.tmp",
                                           "/doc.odt", copy.id, copy.rev_id,
                                           uid, doc.id),
                     DAV_STORE_OK);
    assert_int_equal(st->renamed_away_take(req, sid, "/~WRL0003.tmp", uid,
                                           60, &to, &id, &rev),
                     DAV_STORE_NOTFOUND);
    assert_int_equal(st->disposable(req, &copy, "/~WRL0003.tmp",
                                    "team/~WRL0003.tmp", false, &yes),
                     DAV_STORE_OK);
    assert_true(yes);
    /* elsewhere (renamed since), or approved: not disposable */
    assert_int_equal(st->disposable(req, &copy, "/kept.odt", "team/kept.odt",
                                    false, &yes),
                     DAV_STORE_OK);
    assert_false(yes);
    assert_int_equal(st->approval_set(req, &copy, "approved", uid),
                     DAV_STORE_OK);
    assert_int_equal(st->disposable(req, &copy, "/~WRL0003.tmp",
                                    "team/~WRL0003.tmp", false, &yes),
                     DAV_STORE_OK);
    assert_false(yes);
    /* a lock-file name alone is not enough: it must have been made there */
    struct dav_resource lockf;
    put_file(req, "/~$doc.odt", "me", &lockf);
    assert_int_equal(st->disposable(req, &lockf, "/~$doc.odt",
                                    "team/~$doc.odt", true, &yes),
                     DAV_STORE_OK);
    assert_false(yes);
    struct dav_audit made = { .action = "PUT", .space_id = sid,
                              .path = "team/~$doc.odt",
                              .resource_id = lockf.id, .status = 201 };
    assert_int_equal(st->audit_add(req, &made), DAV_STORE_OK);
    assert_int_equal(st->disposable(req, &lockf, "/~$doc.odt",
                                    "team/~$doc.odt", true, &yes),
                     DAV_STORE_OK);
    assert_true(yes);
    st->txn_rollback(req);
    free_req(req);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        FS_TEST(test_every_op_is_set),
        FS_TEST(test_fail_at_counts_every_call),
        FS_TEST(test_rollback_restores_everything),
        FS_TEST(test_commit_keeps_and_failed_commit_restores),
        FS_TEST(test_violations_are_counted),
        FS_TEST(test_queries),
        FS_TEST(test_locks_find),
        FS_TEST(test_access_entries_and_principals),
        FS_TEST(test_approval_published_and_trash),
        FS_TEST(test_revisions_and_restore),
        FS_TEST(test_change_log),
        FS_TEST(test_audit_and_receipts),
        FS_TEST(test_personal_space_and_calendars),
        FS_TEST(test_rollback_covers_every_table),
        FS_TEST(test_new_ops_can_fail),
        FS_TEST(test_renamed_away),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fake_store_free();
    return rc;
}
