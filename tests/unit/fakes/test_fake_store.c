/*
 * tests/unit/fakes/test_fake_store.c -- the fake store keeps its own
 * promises: the torture tests are only as good as its rollback, its
 * failure injector and its dump.
 */
#include "tests/unit/unit.h"

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

static void
test_every_op_is_set(void **state)
{
    (void)state;
    assert_non_null(st->txn_begin);
    assert_non_null(st->txn_commit);
    assert_non_null(st->txn_rollback);
    assert_non_null(st->user_by_name);
    assert_non_null(st->space_for_user);
    assert_non_null(st->spaces_of_user);
    assert_non_null(st->lookup);
    assert_non_null(st->children);
    assert_non_null(st->props_get);
    assert_non_null(st->prop_set);
    assert_non_null(st->prop_remove);
    assert_non_null(st->create);
    assert_non_null(st->chunk_put);
    assert_non_null(st->revision_add);
    assert_non_null(st->content_chunks);
    assert_non_null(st->chunk_read);
    assert_non_null(st->remove);
    assert_non_null(st->copy);
    assert_non_null(st->move);
    assert_non_null(st->ping);
    assert_non_null(st->locks_find);
    assert_non_null(st->lock_create);
    assert_non_null(st->lock_refresh);
    assert_non_null(st->lock_remove);
    assert_non_null(st->quota_get);
    assert_non_null(st->tree_size);
    assert_non_null(st->mtime_set);
    assert_non_null(st->principal_valid);
    assert_non_null(st->app_passwords);
    assert_non_null(st->aces_find);
    assert_non_null(st->aces_replace);
    assert_non_null(st->space_members);
    assert_non_null(st->users_visible);
    assert_non_null(st->space_by_slug);
    /* and nothing beyond: a new operation must be added here and to the
     * fake (this is the number of members of struct dav_store_ops) */
    assert_int_equal(sizeof(struct dav_store_ops),
                     34 * sizeof(st->ping));
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
    assert_int_equal(st->locks_find(req, sid, "/a/b", false, &out, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].token, "urn:uuid:1");
    assert_string_equal(out[1].token, "urn:uuid:2");
    /* a depth-0 lock does not cover what is below it */
    assert_int_equal(st->locks_find(req, sid, "/a/b/x", false, &out, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].token, "urn:uuid:1");
    /* with descendants */
    assert_int_equal(st->locks_find(req, sid, "/a/b", true, &out, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(out[2].root, "/a/b/c");
    assert_int_equal(st->locks_find(req, sid, "", true, &out, &n),
                     DAV_STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(st->locks_find(req, sid, "/ab", false, &out, &n),
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
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fake_store_free();
    return rc;
}
