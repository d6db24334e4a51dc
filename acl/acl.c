/*
 * acl/acl.c -- Basic authentication and role-based access decisions.
 *
 * Passwords are hashed with Argon2id (RFC 9106), memory-hard, with the
 * parameters below.  Verifying costs tens of milliseconds and ~19 MiB, so
 * verified credentials are kept in a small in-memory cache keyed by a
 * salted SHA-256 of user and password: an authenticated request then
 * costs one hash of a few bytes.  At most ACL_HASH_SLOTS verifications run
 * at once, which bounds the memory spent on hashing.
 *
 * The cache and the semaphore are the only mutable process-wide state;
 * the cache has its own mutex.
 *
 * Access: every authenticated principal may read the virtual collections;
 * inside a space the principal's role gives a fixed privilege set
 * (DESIGN.md "Access control").  A principal without read access to a
 * space sees 404, never 403, so that names do not leak.
 */
#include "acl/acl.h"

#include <argon2.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ACL_T_COST 2
#define ACL_M_COST (19 * 1024) /* KiB */
#define ACL_PARALLELISM 1
#define ACL_CACHE_SLOTS 1024
#define ACL_CACHE_TTL 60 /* seconds */
#define ACL_HASH_SLOTS 2

struct cred_entry {
    unsigned char key[32];
    int64_t user_id;
    char name[64];
    time_t expires;
};

static struct {
    pthread_mutex_t lock;
    unsigned char salt[32];
    struct cred_entry slots[ACL_CACHE_SLOTS];
    sem_t hashing;
    bool ready;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

unsigned
acl_role_privs(const char *role)
{
    unsigned editor = DAV_PRIV_READ | DAV_PRIV_READ_CUPS | DAV_PRIV_WRITE |
                      DAV_PRIV_UNLOCK;
    if (role == NULL)
        return 0;
    if (strcmp(role, "manager") == 0)
        return editor | DAV_PRIV_READ_ACL | DAV_PRIV_WRITE_ACL;
    if (strcmp(role, "validator") == 0)
        return editor | DAV_PRIV_READ_ACL;
    if (strcmp(role, "editor") == 0)
        return editor;
    if (strcmp(role, "reader") == 0)
        return DAV_PRIV_READ | DAV_PRIV_READ_CUPS;
    return 0;
}

bool
acl_role_valid(const char *role)
{
    return acl_role_privs(role) != 0;
}

bool
acl_password_hash(const char *password, char *out, size_t outlen)
{
    unsigned char salt[16];
    core_random(salt, sizeof(salt));
    int rc = argon2id_hash_encoded(ACL_T_COST, ACL_M_COST, ACL_PARALLELISM,
                                   password, strlen(password), salt,
                                   sizeof(salt), 32, out, outlen);
    return rc == ARGON2_OK;
}

bool
acl_password_verify(const char *encoded, const char *password)
{
    if (encoded == NULL || strncmp(encoded, "$argon2id$", 10) != 0)
        return false;
    if (cache.ready)
        while (sem_wait(&cache.hashing) != 0)
            ;
    int rc = argon2id_verify(encoded, password, strlen(password));
    if (cache.ready)
        sem_post(&cache.hashing);
    return rc == ARGON2_OK;
}

static void
cache_key(const char *user, const char *pass, unsigned char key[32])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, cache.salt, sizeof(cache.salt));
    sha256_update(&s, user, strlen(user) + 1);
    sha256_update(&s, pass, strlen(pass));
    sha256_final(&s, key);
}

static bool
cache_get(const unsigned char key[32], const char *user, int64_t *uid)
{
    bool hit = false;
    size_t slot = ((size_t)key[0] << 8 | key[1]) % ACL_CACHE_SLOTS;
    time_t now = time(NULL);
    pthread_mutex_lock(&cache.lock);
    struct cred_entry *e = &cache.slots[slot];
    if (e->expires > now && core_ct_equal(e->key, key, 32) &&
        strcmp(e->name, user) == 0) {
        *uid = e->user_id;
        hit = true;
    }
    pthread_mutex_unlock(&cache.lock);
    return hit;
}

static void
cache_put(const unsigned char key[32], const char *user, int64_t uid)
{
    size_t slot = ((size_t)key[0] << 8 | key[1]) % ACL_CACHE_SLOTS;
    if (strlen(user) >= sizeof(cache.slots[0].name))
        return;
    pthread_mutex_lock(&cache.lock);
    struct cred_entry *e = &cache.slots[slot];
    memcpy(e->key, key, 32);
    e->user_id = uid;
    snprintf(e->name, sizeof(e->name), "%s", user);
    e->expires = time(NULL) + ACL_CACHE_TTL;
    pthread_mutex_unlock(&cache.lock);
}

void
acl_cache_clear(void)
{
    pthread_mutex_lock(&cache.lock);
    memset(cache.slots, 0, sizeof(cache.slots));
    pthread_mutex_unlock(&cache.lock);
}

static struct dav_err *
unauthorized(struct dav_req *req, const char *why)
{
    return dav_err_new(req, 401, "authentication required: %s", why);
}

static struct dav_err *
acl_authn(struct dav_req *req)
{
    const char *h = dav_req_header(req, "Authorization");
    if (h == NULL)
        return unauthorized(req, "no credentials");
    struct str v = str_trim(str_c(h));
    if (v.len < 6 || !str_case_eq_c((struct str){ v.p, 6 }, "Basic "))
        return unauthorized(req, "not Basic");
    char *dec;
    size_t declen;
    if (!base64_decode(req->arena, str_trim((struct str){ v.p + 6,
                                                          v.len - 6 }),
                       &dec, &declen))
        return unauthorized(req, "bad Basic encoding");
    char *colon = memchr(dec, ':', declen);
    if (colon == NULL || memchr(dec, '\0', declen) != NULL)
        return unauthorized(req, "bad Basic credentials");
    *colon = '\0';
    const char *user = dec;
    const char *pass = colon + 1;

    unsigned char key[32];
    int64_t uid;
    cache_key(user, pass, key);
    if (cache_get(key, user, &uid)) {
        req->principal = arena_alloc(req->arena, sizeof(*req->principal));
        req->principal->id = uid;
        req->principal->name = arena_strdup(req->arena, user);
        req->log_user = req->principal->name;
        return NULL;
    }
    struct dav_user u;
    enum dav_store_rc rc = req->srv->store->user_by_name(req, user, &u);
    if (rc != DAV_STORE_OK && rc != DAV_STORE_NOTFOUND)
        return dav_err_from_store(req, rc, "user");
    /* Verify even for unknown users so that timing does not tell. */
    static const char *dummy =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "sGx5x6Q1d6ZtC0z1cZlq8w2B2m4I6C5xGm0cZ8m0cZ4";
    bool ok = acl_password_verify(rc == DAV_STORE_OK ? u.password_hash : dummy,
                                  pass);
    if (rc != DAV_STORE_OK || !ok || u.disabled) {
        log_msg(LOG_INFO, req->id, NULL, "failed login for user \"%s\" from %s",
                user, req->client_addr);
        return unauthorized(req, "bad credentials");
    }
    cache_put(key, user, u.id);
    req->principal = arena_alloc(req->arena, sizeof(*req->principal));
    req->principal->id = u.id;
    req->principal->name = arena_strdup(req->arena, u.name);
    req->principal->display_name = u.display_name;
    req->log_user = req->principal->name;
    return NULL;
}

static struct dav_err *
acl_authz(struct dav_req *req, const struct dav_target *t, unsigned priv)
{
    if (req->principal == NULL)
        return dav_err_new(req, 401, "authentication required");
    if (t->area != DAV_AREA_SPACE) {
        if ((priv & ~(DAV_PRIV_READ | DAV_PRIV_READ_CUPS)) != 0)
            return dav_err_new(req, 403, "virtual collection is read-only");
        return NULL;
    }
    unsigned have = acl_role_privs(t->space.role);
    if ((have & DAV_PRIV_READ) == 0)
        return dav_err_new(req, 404, "not visible");
    if ((have & priv) != priv) {
        struct dav_err *e = dav_err_cond(req, 403, DAV_NS, "need-privileges",
                                         "role %s lacks privilege",
                                         t->space.role);
        return e;
    }
    return NULL;
}

void
acl_register(struct dav_registry *r)
{
    pthread_mutex_lock(&cache.lock);
    if (!cache.ready) {
        core_random(cache.salt, sizeof(cache.salt));
        sem_init(&cache.hashing, 0, ACL_HASH_SLOTS);
        cache.ready = true;
    }
    pthread_mutex_unlock(&cache.lock);
    dav_registry_set_auth(r, acl_authn, acl_authz);
}
