/*
 * tests/unit/db/test_disk_cache.c -- db/disk_cache: hits give the bytes
 * put and their ranges, keys are (space, hash), the budget evicts the
 * least recently used chunk, opening empties the directory of chunk files
 * only, a directory open to others or already in use is refused, a file
 * removed by hand is a miss, and threads may share the cache; an upload
 * written whole is kept under its content's name only when told its
 * chunks were those written, and its file is handed out for sending.
 */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/disk_cache.h"

#define CHUNK (100 * 1024)
/* What one chunk of CHUNK bytes is charged (its bytes and one block). */
#define CHARGED (CHUNK + 4096)

static char dir[64];

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/parvis-dc-XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            char p[400];
            snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
            if (de->d_name[0] != '.')
                unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
    return 0;
}

static void
fill(unsigned char *buf, size_t len, unsigned n)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)(i * 7 + n);
}

static size_t
files_named(const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

/* The path of the one cached file ("c-...") of the directory. */
static void
cached_file(char *path, size_t len)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    size_t found = 0;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "c-", 2) == 0) {
            snprintf(path, len, "%s/%s", dir, de->d_name);
            found++;
        }
    }
    closedir(d);
    assert_int_equal(found, 1);
}

static struct disk_cache *
open_cache(uint64_t budget)
{
    char err[256] = "";
    struct disk_cache *c = disk_cache_open(dir, budget, err, sizeof(err));
    if (c == NULL)
        fail_msg("disk_cache_open: %s", err);
    return c;
}

/* A cache of 1 MiB holding one chunk of zeros, key n, in space 'space'. */
static struct disk_cache *
cache_with_one(int64_t space, unsigned n, unsigned char sha[32])
{
    static unsigned char zeros[CHUNK];
    struct disk_cache *c = open_cache(1 << 20);
    unit_key(sha, n);
    disk_cache_put(c, space, sha, zeros, sizeof(zeros));
    return c;
}

/* An empty file 'name' in the cache's directory. */
static void
touch(const char *name)
{
    char p[400];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
}

static void
test_hit_gives_the_bytes_and_ranges(void **state)
{
    (void)state;
    struct disk_cache *c = open_cache(1 << 20);
    static unsigned char data[CHUNK], out[CHUNK];
    unsigned char sha[32];
    unit_key(sha, 1);
    fill(data, sizeof(data), 1);
    assert_false(disk_cache_get(c, 7, sha, 0, 16, out));
    disk_cache_put(c, 7, sha, data, sizeof(data));
    assert_int_equal(files_named("c-"), 1);
    assert_int_equal(files_named("t-"), 0);
    assert_true(disk_cache_get(c, 7, sha, 0, CHUNK, out));
    assert_memory_equal(out, data, CHUNK);
    assert_true(disk_cache_get(c, 7, sha, 5000, 3000, out));
    assert_memory_equal(out, data + 5000, 3000);
    /* past the end, another space, another hash */
    assert_false(disk_cache_get(c, 7, sha, CHUNK - 10, 11, out));
    assert_false(disk_cache_get(c, 8, sha, 0, 16, out));
    unit_key(sha, 2);
    assert_false(disk_cache_get(c, 7, sha, 0, 16, out));
    size_t n;
    uint64_t bytes;
    disk_cache_usage(c, &n, &bytes);
    assert_int_equal(n, 1);
    assert_int_equal(bytes, CHARGED);
    disk_cache_close(c);
}

static void
test_budget_evicts_the_least_recently_used(void **state)
{
    (void)state;
    struct disk_cache *c = open_cache(3 * CHARGED);
    static unsigned char data[CHUNK], out[CHUNK];
    unsigned char sha[32];
    for (unsigned i = 0; i < 3; i++) {
        unit_key(sha, i);
        fill(data, sizeof(data), i);
        disk_cache_put(c, 1, sha, data, sizeof(data));
    }
    /* Chunk 0 read again: chunk 1 is now the least recently used. */
    unit_key(sha, 0);
    assert_true(disk_cache_get(c, 1, sha, 0, 8, out));
    unit_key(sha, 3);
    fill(data, sizeof(data), 3);
    disk_cache_put(c, 1, sha, data, sizeof(data));
    size_t n;
    uint64_t bytes;
    disk_cache_usage(c, &n, &bytes);
    assert_int_equal(n, 3);
    assert_true(bytes <= 3 * CHARGED);
    assert_int_equal(files_named("c-"), 3);
    unit_key(sha, 1);
    assert_false(disk_cache_get(c, 1, sha, 0, 8, out));
    static const unsigned kept[] = { 0, 2, 3 };
    for (unsigned k = 0; k < 3; k++) {
        unit_key(sha, kept[k]);
        fill(data, sizeof(data), kept[k]);
        assert_true(disk_cache_get(c, 1, sha, 0, CHUNK, out));
        assert_memory_equal(out, data, CHUNK);
    }
    /* A chunk larger than the whole budget is not kept. */
    static unsigned char big[4 * CHUNK];
    unit_key(sha, 9);
    disk_cache_put(c, 1, sha, big, sizeof(big));
    assert_false(disk_cache_get(c, 1, sha, 0, 8, out));
    disk_cache_close(c);
}

static void
test_open_empties_chunk_files_only(void **state)
{
    (void)state;
    unsigned char sha[32], out[16];
    struct disk_cache *c = cache_with_one(2, 4, sha);
    disk_cache_close(c);
    /* What a crash leaves: a temporary file; and a file of someone
     * else's, which must stay. */
    touch("t-1-1");
    touch("notes.txt");
    c = open_cache(1 << 20);
    assert_int_equal(files_named("c-"), 0);
    assert_int_equal(files_named("t-"), 0);
    assert_int_equal(files_named("notes.txt"), 1);
    assert_false(disk_cache_get(c, 2, sha, 0, sizeof(out), out));
    disk_cache_close(c);
}

static void
test_refused_when_open_to_others_or_in_use(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(chmod(dir, 0750), 0);
    assert_null(disk_cache_open(dir, 1 << 20, err, sizeof(err)));
    assert_non_null(strstr(err, "0700"));
    assert_int_equal(chmod(dir, 0700), 0);
    struct disk_cache *c = open_cache(1 << 20);
    assert_null(disk_cache_open(dir, 1 << 20, err, sizeof(err)));
    assert_non_null(strstr(err, "in use"));
    disk_cache_close(c);
    c = open_cache(1 << 20);
    disk_cache_close(c);
    /* A missing directory is created, closed to others. */
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    struct disk_cache *s = disk_cache_open(sub, 1 << 20, err, sizeof(err));
    assert_non_null(s);
    struct stat st;
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    disk_cache_close(s);
    snprintf(err, sizeof(err), "%s/lock", sub);
    unlink(err);
    rmdir(sub);
}

static void
test_file_removed_by_hand_is_a_miss(void **state)
{
    (void)state;
    static unsigned char data[CHUNK];
    unsigned char sha[32], out[16];
    struct disk_cache *c = cache_with_one(3, 5, sha);
    char p[400];
    cached_file(p, sizeof(p));
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(unlink(p), 0);
    assert_false(disk_cache_get(c, 3, sha, 0, sizeof(out), out));
    size_t n;
    uint64_t bytes;
    disk_cache_usage(c, &n, &bytes);
    assert_int_equal(n, 0);
    assert_int_equal(bytes, 0);
    /* Put again, it is back. */
    disk_cache_put(c, 3, sha, data, sizeof(data));
    assert_true(disk_cache_get(c, 3, sha, 0, sizeof(out), out));
    disk_cache_close(c);
}

struct worker {
    struct disk_cache *c;
    unsigned id;
    unsigned wrong;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    static _Thread_local unsigned char buf[CHUNK], out[CHUNK];
    unsigned char sha[32];
    for (unsigned i = 0; i < 400; i++) {
        unsigned n = (i * 7 + w->id) % 12;
        unit_key(sha, n);
        fill(buf, sizeof(buf), n);
        if (disk_cache_get(w->c, 1, sha, 0, sizeof(out), out)) {
            if (memcmp(out, buf, sizeof(out)) != 0)
                w->wrong++;
        } else {
            disk_cache_put(w->c, 1, sha, buf, sizeof(buf));
        }
    }
    return NULL;
}

static void
test_threads_share_it(void **state)
{
    (void)state;
    /* Room for 6 of the 12 chunks: puts, hits and evictions interleave. */
    struct disk_cache *c = open_cache(6 * CHARGED);
    pthread_t th[4];
    struct worker w[4];
    for (unsigned i = 0; i < 4; i++) {
        w[i] = (struct worker){ c, i, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].wrong, 0);
    }
    size_t n;
    uint64_t bytes;
    disk_cache_usage(c, &n, &bytes);
    assert_true(bytes <= 6 * CHARGED);
    assert_true(files_named("c-") <= 6);
    assert_int_equal(files_named("t-"), 0);
    disk_cache_close(c);
}

/* The len bytes readable from fd, compared with want. */
static void
assert_fd_holds(int fd, const unsigned char *want, size_t len)
{
    assert_true(fd >= 0);
    static unsigned char got[4 * CHUNK + 1];
    assert_true(len < sizeof(got));
    assert_int_equal(pread(fd, got, sizeof(got), 0), (ssize_t)len);
    assert_memory_equal(got, want, len);
}

static void
test_fill_is_kept_under_the_content_name(void **state)
{
    (void)state;
    struct disk_cache *c = open_cache(1 << 20);
    static unsigned char whole[2 * CHUNK + 10];
    fill(whole, sizeof(whole), 4);
    unsigned char s0[32], s1[32], s2[32], content[32];
    unit_key(s0, 10);
    unit_key(s1, 11);
    unit_key(s2, 12);
    unit_key(content, 13);
    struct disk_cache_fill *f = disk_cache_fill_begin(c);
    assert_non_null(f);
    disk_cache_fill_add(f, s0, whole, CHUNK);
    disk_cache_fill_add(f, s1, whole + CHUNK, CHUNK);
    disk_cache_fill_add(f, s2, whole + 2 * CHUNK, 10);
    assert_int_equal(files_named("t-"), 1);
    assert_int_equal(disk_cache_fill_chunks(f), 3);
    assert_true(disk_cache_fill_has(f, 1, s1));
    assert_false(disk_cache_fill_has(f, 1, s0));
    assert_false(disk_cache_fill_has(f, 3, s2));
    assert_int_equal(disk_cache_fd(c, 5, content, sizeof(whole)), -1);
    disk_cache_fill_end(f, true, 5, content, sizeof(whole));
    assert_int_equal(files_named("t-"), 0);
    assert_int_equal(files_named("c-"), 1);
    int fd = disk_cache_fd(c, 5, content, sizeof(whole));
    assert_fd_holds(fd, whole, sizeof(whole));
    close(fd);
    /* Another length, another space: none; ranges as for a chunk. */
    assert_int_equal(disk_cache_fd(c, 5, content, sizeof(whole) - 1), -1);
    assert_int_equal(disk_cache_fd(c, 6, content, sizeof(whole)), -1);
    static unsigned char out[100];
    assert_true(disk_cache_get(c, 5, content, CHUNK - 50, 100, out));
    assert_memory_equal(out, whole + CHUNK - 50, 100);
    size_t n;
    uint64_t bytes;
    disk_cache_usage(c, &n, &bytes);
    assert_int_equal(n, 1);
    assert_int_equal(bytes, sizeof(whole) + 4096);
    /* The same content written again: the copy held stays, alone. */
    f = disk_cache_fill_begin(c);
    disk_cache_fill_add(f, s0, whole, sizeof(whole));
    disk_cache_fill_end(f, true, 5, content, sizeof(whole));
    assert_int_equal(files_named("t-"), 0);
    assert_int_equal(files_named("c-"), 1);
    disk_cache_close(c);
}

static void
test_fill_dropped_unless_kept_whole(void **state)
{
    (void)state;
    struct disk_cache *c = open_cache(3 * CHARGED);
    static unsigned char data[CHUNK];
    fill(data, sizeof(data), 7);
    unsigned char sha[32], content[32];
    unit_key(sha, 20);
    unit_key(content, 21);
    /* Not kept (the PUT failed), or a length other than written. */
    struct disk_cache_fill *f = disk_cache_fill_begin(c);
    disk_cache_fill_add(f, sha, data, CHUNK);
    disk_cache_fill_end(f, false, 1, content, CHUNK);
    f = disk_cache_fill_begin(c);
    disk_cache_fill_add(f, sha, data, CHUNK);
    disk_cache_fill_end(f, true, 1, content, CHUNK + 1);
    assert_int_equal(disk_cache_fd(c, 1, content, CHUNK), -1);
    assert_int_equal(disk_cache_fd(c, 1, content, CHUNK + 1), -1);
    /* Past the budget: spoilt at once, nothing written beyond it. */
    f = disk_cache_fill_begin(c);
    for (int i = 0; i < 4; i++)
        disk_cache_fill_add(f, sha, data, CHUNK);
    assert_int_equal(files_named("t-"), 0);
    assert_int_equal(disk_cache_fill_chunks(f), 0);
    assert_false(disk_cache_fill_has(f, 0, sha));
    disk_cache_fill_end(f, true, 1, content, 4 * CHUNK);
    assert_int_equal(files_named("t-"), 0);
    assert_int_equal(files_named("c-"), 0);
    /* Uploads written at once share the budget: the second of two cannot
     * take what the first holds; once the first is dropped, it can. */
    struct disk_cache_fill *a = disk_cache_fill_begin(c);
    struct disk_cache_fill *b = disk_cache_fill_begin(c);
    for (int i = 0; i < 3; i++)
        disk_cache_fill_add(a, sha, data, CHUNK);
    assert_int_equal(disk_cache_fill_chunks(a), 3);
    disk_cache_fill_add(b, sha, data, CHUNK);
    assert_int_equal(disk_cache_fill_chunks(b), 0);
    disk_cache_fill_end(a, false, 1, content, 3 * CHUNK);
    struct disk_cache_fill *d = disk_cache_fill_begin(c);
    disk_cache_fill_add(d, sha, data, CHUNK);
    disk_cache_fill_add(d, sha, data, CHUNK);
    assert_int_equal(disk_cache_fill_chunks(d), 2);
    disk_cache_fill_end(d, true, 1, content, 2 * CHUNK);
    disk_cache_fill_end(b, true, 1, content, CHUNK);
    assert_int_equal(files_named("t-"), 0);
    assert_int_equal(files_named("c-"), 1);
    /* No cache: no fill, and a NULL fill is ignored throughout. */
    assert_null(disk_cache_fill_begin(NULL));
    disk_cache_fill_add(NULL, sha, data, 1);
    disk_cache_fill_end(NULL, true, 1, content, 1);
    assert_int_equal(disk_cache_fd(NULL, 1, content, 1), -1);
    disk_cache_close(c);
}

static void
test_fill_makes_room_among_kept_copies(void **state)
{
    (void)state;
    /* Two chunks kept, then an upload of two more: the least recently
     * used copy goes as it is written, never past the budget. */
    struct disk_cache *c = open_cache(3 * CHARGED);
    static unsigned char data[CHUNK];
    unsigned char sha[32], content[32];
    for (unsigned i = 0; i < 2; i++) {
        unit_key(sha, 30 + i);
        fill(data, sizeof(data), i);
        disk_cache_put(c, 1, sha, data, sizeof(data));
    }
    assert_int_equal(files_named("c-"), 2);
    struct disk_cache_fill *f = disk_cache_fill_begin(c);
    unit_key(content, 40);
    disk_cache_fill_add(f, content, data, CHUNK);
    assert_int_equal(files_named("c-"), 2);
    disk_cache_fill_add(f, content, data, CHUNK);
    assert_int_equal(files_named("c-"), 1);
    unit_key(sha, 30);
    assert_int_equal(disk_cache_fd(c, 1, sha, CHUNK), -1);
    disk_cache_fill_end(f, true, 1, content, 2 * CHUNK);
    size_t n;
    uint64_t bytes;
    disk_cache_usage(c, &n, &bytes);
    assert_true(bytes <= 3 * CHARGED);
    assert_int_equal(n, 2);
    disk_cache_close(c);
}

static void
test_fd_of_a_file_cut_short_is_a_miss(void **state)
{
    (void)state;
    unsigned char sha[32];
    struct disk_cache *c = cache_with_one(4, 6, sha);
    static unsigned char zeros[CHUNK];
    int fd = disk_cache_fd(c, 4, sha, CHUNK);
    assert_fd_holds(fd, zeros, CHUNK);
    close(fd);
    char p[400];
    cached_file(p, sizeof(p));
    assert_int_equal(truncate(p, 10), 0);
    assert_int_equal(disk_cache_fd(c, 4, sha, CHUNK), -1);
    size_t n;
    uint64_t bytes;
    disk_cache_usage(c, &n, &bytes);
    assert_int_equal(n, 0);
    assert_int_equal(files_named("c-"), 0);
    disk_cache_close(c);
}

static void
test_no_cache_caches_nothing(void **state)
{
    (void)state;
    unsigned char sha[32], out[4];
    unit_key(sha, 3);
    disk_cache_put(NULL, 1, sha, "abcd", 4);
    assert_false(disk_cache_get(NULL, 1, sha, 0, 4, out));
    disk_cache_close(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hit_gives_the_bytes_and_ranges,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_budget_evicts_the_least_recently_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_empties_chunk_files_only,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_refused_when_open_to_others_or_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_removed_by_hand_is_a_miss,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_share_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_fill_is_kept_under_the_content_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill_dropped_unless_kept_whole,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_fill_makes_room_among_kept_copies, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_fd_of_a_file_cut_short_is_a_miss, setup, teardown),
        cmocka_unit_test(test_no_cache_caches_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
