/*
 * db/disk_cache.c -- large content chunks kept in files of a private
 * directory, one file per chunk, named by its space and hash; an upload
 * of several chunks is written whole to one file, named by the hash of
 * the whole content once its chunk list is known (decision 0022).  Both
 * are byte strings named by their SHA-256: one index serves them.
 *
 * The index of the files present (and their order of use) is in memory,
 * guarded by one mutex; it starts empty, since the directory is emptied at
 * open.  A chunk is written to a temporary file, then renamed to its name,
 * so a reader opens either no file or a whole one; a file evicted while a
 * reader holds it open stays readable to that reader.  No fsync: after a
 * crash of the machine the files may be torn, and the next start empties
 * the directory before anything is read.  A second process is kept out by
 * an flock on the directory's "lock" file.
 *
 * Owner: the pool (struct db_pool), which is given the cache at start-up
 * and closes it last.
 */
#include "db/disk_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* "c-" + 16 hex digits of the space + "-" + 64 of the hash */
#define NAME_LEN (2 + 16 + 1 + 64)
/* What a file takes on disk beyond its bytes, counted against the budget. */
#define FILE_OVERHEAD 4096u

struct entry {
    int64_t space_id;
    unsigned char sha256[32];
    size_t len;
    struct entry *hnext;          /* bucket chain */
    struct entry *newer, *older;  /* use order */
};

struct disk_cache {
    pthread_mutex_t lock;
    int dirfd;
    int lockfd;
    uint64_t budget;
    uint64_t used;
    size_t count;
    size_t nbuckets;
    struct entry **buckets;
    struct entry *newest, *oldest;
    unsigned long tmp_seq;
    uint64_t filling;             /* bytes of uploads being written whole */
};

static size_t
bucket_of(const struct disk_cache *c, int64_t space_id,
          const unsigned char sha256[32])
{
    uint64_t h;
    memcpy(&h, sha256, sizeof(h));
    h ^= (uint64_t)space_id * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h % c->nbuckets);
}

static void
file_name(char out[NAME_LEN + 1], int64_t space_id,
          const unsigned char sha256[32])
{
    static const char hex[] = "0123456789abcdef";
    snprintf(out, NAME_LEN + 1, "c-%016" PRIx64 "-", (uint64_t)space_id);
    char *p = out + 2 + 16 + 1;
    for (int i = 0; i < 32; i++) {
        *p++ = hex[sha256[i] >> 4];
        *p++ = hex[sha256[i] & 15];
    }
    *p = '\0';
}

static uint64_t
charge(size_t len)
{
    return (uint64_t)len + FILE_OVERHEAD;
}

/* Under the lock. */
static struct entry *
find(struct disk_cache *c, int64_t space_id, const unsigned char sha256[32])
{
    struct entry *e = c->buckets[bucket_of(c, space_id, sha256)];
    while (e != NULL && (e->space_id != space_id ||
                         memcmp(e->sha256, sha256, 32) != 0))
        e = e->hnext;
    return e;
}

static void
unlink_use(struct disk_cache *c, struct entry *e)
{
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void
push_newest(struct disk_cache *c, struct entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest != NULL)
        c->newest->newer = e;
    c->newest = e;
    if (c->oldest == NULL)
        c->oldest = e;
}

/* Under the lock: forget e and remove its file. */
static void
drop(struct disk_cache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[bucket_of(c, e->space_id, e->sha256)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    unlink_use(c, e);
    char name[NAME_LEN + 1];
    file_name(name, e->space_id, e->sha256);
    unlinkat(c->dirfd, name, 0);
    c->used -= charge(e->len);
    c->count--;
    free(e);
}

/* Remove what an earlier process left: chunk files and temporary files.
 * Nothing else in the directory is touched. */
static bool
empty_dir(int dirfd, char *err, size_t errlen)
{
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "cannot list the chunk cache: %s",
                 strerror(errno));
        return false;
    }
    struct dirent *de;
    bool ok = true;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "c-", 2) != 0 &&
            strncmp(de->d_name, "t-", 2) != 0)
            continue;
        if (unlinkat(dirfd, de->d_name, 0) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "cannot empty the chunk cache (%s): %s",
                     de->d_name, strerror(errno));
            ok = false;
            break;
        }
    }
    closedir(d);
    return ok;
}

struct disk_cache *
disk_cache_open(const char *dir, uint64_t budget, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", dir, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(dirfd, &st) != 0 || st.st_uid != geteuid() ||
        (st.st_mode & 077) != 0) {
        snprintf(err, errlen, "%s must belong to this user and be closed to "
                              "group and others (mode 0700)", dir);
        close(dirfd);
        return NULL;
    }
    int lockfd = openat(dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "%s is in use by another process", dir);
        if (lockfd >= 0)
            close(lockfd);
        close(dirfd);
        return NULL;
    }
    struct disk_cache *c = calloc(1, sizeof(*c));
    size_t nb = (size_t)(budget / (256 * 1024));
    nb = nb < 256 ? 256 : nb > (1u << 20) ? (1u << 20) : nb;
    struct entry **b = calloc(nb, sizeof(*b));
    if (c == NULL || b == NULL || !empty_dir(dirfd, err, errlen)) {
        if (c == NULL || b == NULL)
            snprintf(err, errlen, "out of memory");
        free(c);
        free(b);
        close(lockfd);
        close(dirfd);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->dirfd = dirfd;
    c->lockfd = lockfd;
    c->budget = budget;
    c->nbuckets = nb;
    c->buckets = b;
    return c;
}

void
disk_cache_close(struct disk_cache *c)
{
    if (c == NULL)
        return;
    for (struct entry *e = c->newest, *next; e != NULL; e = next) {
        next = e->older;
        free(e);
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    close(c->lockfd);
    close(c->dirfd);
    free(c);
}

/* Read (or write) exactly len bytes at off; false on a short file or an
 * error. */
static bool
io_all(int fd, char *p, size_t len, off_t off, bool writing)
{
    while (len > 0) {
        ssize_t n = writing ? pwrite(fd, p, len, off) : pread(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return true;
}

/* Forget the entry of (space_id, sha256), if still listed, after its file
 * turned out evicted meanwhile, or removed or cut short by hand: the next
 * put writes it again. */
static void
forget(struct disk_cache *c, int64_t space_id, const unsigned char sha256[32])
{
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, space_id, sha256);
    if (e != NULL)
        drop(c, e);
    pthread_mutex_unlock(&c->lock);
}

/* The file of (space_id, sha256), opened for reading and made the most
 * recently used, if it is listed holding len bytes at off (with whole,
 * exactly len bytes); else -1.  A listed file that cannot be opened is
 * forgotten. */
static int
open_used(struct disk_cache *c, int64_t space_id,
          const unsigned char sha256[32], uint64_t off, uint64_t len,
          bool whole)
{
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, space_id, sha256);
    bool have = e != NULL &&
                (whole ? (uint64_t)e->len == len
                       : off <= e->len && len <= e->len - off);
    if (have) {
        unlink_use(c, e);
        push_newest(c, e);
    }
    pthread_mutex_unlock(&c->lock);
    if (!have)
        return -1;
    char name[NAME_LEN + 1];
    file_name(name, space_id, sha256);
    int fd = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        forget(c, space_id, sha256);
    return fd;
}

bool
disk_cache_get(struct disk_cache *c, int64_t space_id,
               const unsigned char sha256[32], size_t off, size_t len,
               void *dst)
{
    if (c == NULL)
        return false;
    int fd = open_used(c, space_id, sha256, off, len, false);
    if (fd < 0)
        return false;
    bool ok = io_all(fd, dst, len, (off_t)off, false);
    close(fd);
    if (!ok)
        forget(c, space_id, sha256);
    return ok;
}

/* Name the temporary file tmp (len bytes, written and closed) as the
 * bytes (space_id, sha256), and account for it; it is removed instead when
 * those bytes are held already or no entry can be made. */
static void
keep_file(struct disk_cache *c, const char *tmp, int64_t space_id,
          const unsigned char sha256[32], size_t len)
{
    char name[NAME_LEN + 1];
    file_name(name, space_id, sha256);
    struct entry *e = calloc(1, sizeof(*e));
    pthread_mutex_lock(&c->lock);
    /* Renamed under the lock: an entry is never listed without its file,
     * nor a file left without its entry. */
    if (e == NULL || find(c, space_id, sha256) != NULL ||
        renameat(c->dirfd, tmp, c->dirfd, name) != 0) {
        /* Another thread put the same bytes meanwhile, or no memory. */
        unlinkat(c->dirfd, tmp, 0);
        pthread_mutex_unlock(&c->lock);
        free(e);
        return;
    }
    e->space_id = space_id;
    memcpy(e->sha256, sha256, 32);
    e->len = len;
    size_t b = bucket_of(c, space_id, sha256);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    push_newest(c, e);
    c->used += charge(len);
    c->count++;
    while (c->used > c->budget && c->oldest != NULL)
        drop(c, c->oldest);
    pthread_mutex_unlock(&c->lock);
}

/* Create a temporary file of the directory, its name in tmp. */
static int
make_tmp(struct disk_cache *c, char tmp[64])
{
    pthread_mutex_lock(&c->lock);
    unsigned long seq = c->tmp_seq++;
    pthread_mutex_unlock(&c->lock);
    snprintf(tmp, 64, "t-%ld-%lu", (long)getpid(), seq);
    return openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  0600);
}

void
disk_cache_put(struct disk_cache *c, int64_t space_id,
               const unsigned char sha256[32], const void *data, size_t len)
{
    if (c == NULL || len == 0 || charge(len) > c->budget)
        return;
    pthread_mutex_lock(&c->lock);
    bool known = find(c, space_id, sha256) != NULL;
    pthread_mutex_unlock(&c->lock);
    if (known)
        return;
    char tmp[64];
    int fd = make_tmp(c, tmp);
    if (fd < 0)
        return;
    bool ok = io_all(fd, (char *)(uintptr_t)data, len, 0, true);
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlinkat(c->dirfd, tmp, 0);
        return;
    }
    keep_file(c, tmp, space_id, sha256, len);
}

int
disk_cache_fd(struct disk_cache *c, int64_t space_id,
              const unsigned char sha256[32], uint64_t len)
{
    if (c == NULL)
        return -1;
    int fd = open_used(c, space_id, sha256, 0, len, true);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_size == len)
        return fd;
    close(fd);
    forget(c, space_id, sha256);
    return -1;
}

struct disk_cache_fill {
    struct disk_cache *c;
    int fd;                       /* -1: spoilt */
    char tmp[64];
    uint64_t len;                 /* bytes written */
    uint64_t charged;             /* what they count in c->filling */
    size_t n, cap;                /* chunks added */
    unsigned char (*shas)[32];
};

struct disk_cache_fill *
disk_cache_fill_begin(struct disk_cache *c)
{
    if (c == NULL)
        return NULL;
    struct disk_cache_fill *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->c = c;
    f->fd = make_tmp(c, f->tmp);
    if (f->fd < 0) {
        free(f);
        return NULL;
    }
    return f;
}

/* The fill's bytes no longer count as being written. */
static void
fill_release(struct disk_cache_fill *f)
{
    pthread_mutex_lock(&f->c->lock);
    f->c->filling -= f->charged;
    pthread_mutex_unlock(&f->c->lock);
    f->charged = 0;
}

/* Stop writing: the file can no longer be kept. */
static void
fill_spoil(struct disk_cache_fill *f)
{
    if (f->fd < 0)
        return;
    close(f->fd);
    f->fd = -1;
    unlinkat(f->c->dirfd, f->tmp, 0);
    fill_release(f);
}

void
disk_cache_fill_add(struct disk_cache_fill *f, const unsigned char sha256[32],
                    const void *data, size_t len)
{
    if (f == NULL || f->fd < 0)
        return;
    if (f->n == f->cap) {
        size_t cap = f->cap != 0 ? 2 * f->cap : 64;
        void *p = realloc(f->shas, cap * sizeof(*f->shas));
        if (p == NULL) {
            fill_spoil(f);
            return;
        }
        f->shas = p;
        f->cap = cap;
    }
    /* Uploads written at once share the budget with what is kept: the
     * least recently used copies go to make room, and together they may
     * not fill the disk beyond it. */
    struct disk_cache *c = f->c;
    pthread_mutex_lock(&c->lock);
    while (c->used + c->filling + charge(len) > c->budget &&
           c->oldest != NULL)
        drop(c, c->oldest);
    bool room = c->used + c->filling + charge(len) <= c->budget;
    if (room)
        c->filling += charge(len);
    pthread_mutex_unlock(&c->lock);
    if (!room) {
        fill_spoil(f);
        return;
    }
    f->len += len;
    f->charged += charge(len);
    if (!io_all(f->fd, (char *)(uintptr_t)data, len, (off_t)(f->len - len),
                true)) {
        fill_spoil(f);
        return;
    }
    memcpy(f->shas[f->n++], sha256, 32);
}

size_t
disk_cache_fill_chunks(const struct disk_cache_fill *f)
{
    return f != NULL && f->fd >= 0 ? f->n : 0;
}

bool
disk_cache_fill_has(const struct disk_cache_fill *f, size_t i,
                    const unsigned char sha256[32])
{
    return f != NULL && f->fd >= 0 && i < f->n &&
           memcmp(f->shas[i], sha256, 32) == 0;
}

void
disk_cache_fill_end(struct disk_cache_fill *f, bool keep, int64_t space_id,
                    const unsigned char sha256[32], uint64_t len)
{
    if (f == NULL)
        return;
    if (f->fd >= 0) {
        bool ok = keep && f->len == len && len > 0;
        ok = close(f->fd) == 0 && ok;
        f->fd = -1;
        fill_release(f);
        if (ok)
            keep_file(f->c, f->tmp, space_id, sha256, (size_t)len);
        else
            unlinkat(f->c->dirfd, f->tmp, 0);
    }
    free(f->shas);
    free(f);
}

void
disk_cache_drop(struct disk_cache *c, int64_t space_id,
                const unsigned char sha256[32])
{
    if (c != NULL)
        forget(c, space_id, sha256);
}

void
disk_cache_usage(struct disk_cache *c, size_t *chunks, uint64_t *bytes)
{
    *chunks = 0;
    *bytes = 0;
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    *chunks = c->count;
    *bytes = c->used;
    pthread_mutex_unlock(&c->lock);
}
