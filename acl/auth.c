/*
 * acl/auth.c -- HTTP Basic authentication: account passwords, app
 * passwords, the credential cache and the slow-down of failed logins.
 *
 * Passwords are hashed with Argon2id (RFC 9106), memory-hard, with the
 * parameters below.  Verifying costs tens of milliseconds and ~19 MiB, so
 * verified credentials are kept in a small in-memory cache keyed by a
 * salted SHA-256 of user and password: an authenticated request then
 * costs one hash of a few bytes.  At most ACL_HASH_SLOTS verifications run
 * at once, which bounds the memory spent on hashing.  A login missing the
 * cache reads the user's hash, then gives its database connection back
 * while it waits for a slot and is verified, so that a flood of wrong
 * passwords holds threads, not the pool that cached logins need; at most
 * ACL_HASH_QUEUE logins wait for a slot, and past them the answer is 503.
 *
 * App passwords are long random secrets: they are stored as SHA-256 and
 * checked without a memory-hard hash.  Every request, cached or not,
 * checks in the database that the account is enabled, the guest not
 * expired and the app password not revoked, so that revocation takes
 * effect at once on every node.
 *
 * Failed logins are counted per user name, per client address and per
 * pair of the two.  Past a few failures of the name or of the address,
 * each further attempt waits (up to ACL_MAX_DELAY seconds, holding
 * neither a database connection nor a hashing slot); past many failures
 * of the pair, the pair is refused with 429.  So a guesser is slowed down
 * whatever it varies, but the right password is never refused because
 * others failed: not for the name (guesses from elsewhere), not from the
 * address (a proxy or a NAT shared with a guesser).  Counters decay after
 * ACL_FAIL_WINDOW (decision 0023).
 *
 * The cache, the failure tables and the hashing slots are the only mutable
 * process-wide state; each has its own mutex.  No secret is logged.
 */
#include "acl/acl_int.h"

#include <argon2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ACL_T_COST 2
#define ACL_M_COST (19 * 1024) /* KiB */
#define ACL_PARALLELISM 1
#define ACL_CACHE_SLOTS 1024
#define ACL_CACHE_TTL 60 /* seconds */
#define ACL_HASH_SLOTS 2
#define ACL_HASH_QUEUE 64     /* logins waiting for a slot, past which 503 */

struct cred_entry {
    unsigned char key[32];
    int64_t user_id;
    int64_t app_id;
    bool guest;
    char name[64];
    time_t expires;
};

#define ACL_FAIL_SLOTS 4096
#define ACL_FAIL_WINDOW 600   /* seconds before a failure is forgotten */
#define ACL_FAIL_FREE 5       /* of a name or an address, before waiting */
#define ACL_FAIL_REFUSE 30    /* of a name from an address, before 429 */
#define ACL_MAX_DELAY 8       /* seconds */

struct fail_entry {
    unsigned char key[32];
    unsigned count;
    time_t last;
};

static struct {
    pthread_mutex_t lock;
    unsigned char salt[32];
    struct cred_entry slots[ACL_CACHE_SLOTS];
    bool ready;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    unsigned running;         /* verifications holding a slot */
    unsigned waiting;         /* verifications waiting for one */
} hashing = { .lock = PTHREAD_MUTEX_INITIALIZER,
              .freed = PTHREAD_COND_INITIALIZER };

/* Failures are counted per user name, per client address and per pair of
 * the two, each kind in a table of its own: the many names one address
 * tries never take the slot of that address's count. */
enum fail_kind { FAIL_USER, FAIL_ADDR, FAIL_PAIR, FAIL_KINDS };

static struct {
    pthread_mutex_t lock;
    struct fail_entry slots[FAIL_KINDS][ACL_FAIL_SLOTS];
} fails = { .lock = PTHREAD_MUTEX_INITIALIZER };

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

/* Take a hashing slot (at most ACL_HASH_SLOTS Argon2id computations at
 * once), waiting for one; false at once (no slot taken) when
 * ACL_HASH_QUEUE verifications already wait. */
static bool
hashing_enter(void)
{
    bool taken = true;
    pthread_mutex_lock(&hashing.lock);
    if (hashing.running >= ACL_HASH_SLOTS &&
        hashing.waiting >= ACL_HASH_QUEUE) {
        taken = false;
    } else {
        hashing.waiting++;
        while (hashing.running >= ACL_HASH_SLOTS)
            pthread_cond_wait(&hashing.freed, &hashing.lock);
        hashing.waiting--;
        hashing.running++;
    }
    pthread_mutex_unlock(&hashing.lock);
    return taken;
}

static void
hashing_leave(void)
{
    pthread_mutex_lock(&hashing.lock);
    hashing.running--;
    pthread_cond_signal(&hashing.freed);
    pthread_mutex_unlock(&hashing.lock);
}

/* A password against its encoded hash (constant time), the caller
 * holding a hashing slot. */
static bool
verify_in_slot(const char *encoded, const char *password)
{
    if (encoded == NULL || strncmp(encoded, "$argon2id$", 10) != 0)
        return false;
    return argon2id_verify(encoded, password, strlen(password)) == ARGON2_OK;
}

static void
salted_key(const char *kind, const char *a, const char *b,
           unsigned char key[32])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, cache.salt, sizeof(cache.salt));
    sha256_update(&s, kind, strlen(kind) + 1);
    sha256_update(&s, a, strlen(a) + 1);
    sha256_update(&s, b, strlen(b));
    sha256_final(&s, key);
}

static size_t
slot_of(const unsigned char key[32], size_t nslots)
{
    return ((size_t)key[0] << 16 | (size_t)key[1] << 8 | key[2]) % nslots;
}

static bool
cache_get(const unsigned char key[32], const char *user, int64_t *uid,
          int64_t *app_id, bool *guest)
{
    bool hit = false;
    struct cred_entry *e = &cache.slots[slot_of(key, ACL_CACHE_SLOTS)];
    time_t now = time(NULL);
    pthread_mutex_lock(&cache.lock);
    if (e->expires > now && core_ct_equal(e->key, key, 32) &&
        strcmp(e->name, user) == 0) {
        *uid = e->user_id;
        *app_id = e->app_id;
        *guest = e->guest;
        hit = true;
    }
    pthread_mutex_unlock(&cache.lock);
    return hit;
}

static void
cache_put(const unsigned char key[32], const char *user, int64_t uid,
          int64_t app_id, bool guest)
{
    if (strlen(user) >= sizeof(cache.slots[0].name))
        return;
    struct cred_entry *e = &cache.slots[slot_of(key, ACL_CACHE_SLOTS)];
    pthread_mutex_lock(&cache.lock);
    memcpy(e->key, key, 32);
    e->user_id = uid;
    e->app_id = app_id;
    e->guest = guest;
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

/* Failures recorded for a key, after decay. */
static unsigned
fail_count(enum fail_kind kind, const unsigned char key[32])
{
    struct fail_entry *e = &fails.slots[kind][slot_of(key, ACL_FAIL_SLOTS)];
    unsigned n = 0;
    time_t now = time(NULL);
    pthread_mutex_lock(&fails.lock);
    if (memcmp(e->key, key, 32) == 0 && now - e->last < ACL_FAIL_WINDOW)
        n = e->count;
    pthread_mutex_unlock(&fails.lock);
    return n;
}

static void
fail_record(enum fail_kind kind, const unsigned char key[32])
{
    struct fail_entry *e = &fails.slots[kind][slot_of(key, ACL_FAIL_SLOTS)];
    time_t now = time(NULL);
    pthread_mutex_lock(&fails.lock);
    if (memcmp(e->key, key, 32) != 0 || now - e->last >= ACL_FAIL_WINDOW) {
        memcpy(e->key, key, 32);
        e->count = 0;
    }
    e->count++;
    e->last = now;
    pthread_mutex_unlock(&fails.lock);
}

static void
fail_clear(enum fail_kind kind, const unsigned char key[32])
{
    struct fail_entry *e = &fails.slots[kind][slot_of(key, ACL_FAIL_SLOTS)];
    pthread_mutex_lock(&fails.lock);
    if (memcmp(e->key, key, 32) == 0)
        e->count = 0;
    pthread_mutex_unlock(&fails.lock);
}

/* The keys of a login's failure counters: its user name, its client
 * address, and the pair of the two. */
struct fail_keys {
    unsigned char user[32];
    unsigned char addr[32];
    unsigned char pair[32];
};

static void
fail_keys_of(const char *user, const char *addr, struct fail_keys *k)
{
    salted_key("user", user, "", k->user);
    salted_key("addr", addr, "", k->addr);
    salted_key("pair", user, addr, k->pair);
}

/* Refused with 429: the name failed too often from this address.  The
 * failures of the name from elsewhere, or of other names from here, only
 * slow a login down (wait_seconds): they never refuse the right password. */
static bool
fail_refused(const struct fail_keys *k)
{
    return fail_count(FAIL_PAIR, k->pair) >= ACL_FAIL_REFUSE;
}

/* Seconds a login waits before it is verified: 1, 2, 4 ... up to
 * ACL_MAX_DELAY past ACL_FAIL_FREE failures of its name or its address. */
static unsigned
wait_seconds(const struct fail_keys *k)
{
    unsigned failures = fail_count(FAIL_USER, k->user);
    unsigned by_addr = fail_count(FAIL_ADDR, k->addr);
    if (by_addr > failures)
        failures = by_addr;
    if (failures < ACL_FAIL_FREE)
        return 0;
    unsigned delay = 1;
    for (unsigned i = ACL_FAIL_FREE; i < failures && delay < ACL_MAX_DELAY;
         i++)
        delay *= 2;
    return delay > ACL_MAX_DELAY ? ACL_MAX_DELAY : delay;
}

static void
fail_record_all(const struct fail_keys *k)
{
    fail_record(FAIL_USER, k->user);
    fail_record(FAIL_ADDR, k->addr);
    fail_record(FAIL_PAIR, k->pair);
}

static void
fail_clear_all(const struct fail_keys *k)
{
    fail_clear(FAIL_USER, k->user);
    fail_clear(FAIL_ADDR, k->addr);
    fail_clear(FAIL_PAIR, k->pair);
}

static struct dav_err *
unauthorized(struct dav_req *req, const char *why)
{
    return dav_err_new(req, 401, "authentication required: %s", why);
}

static bool
loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
           strncmp(addr, "::ffff:127.", 11) == 0;
}

/* An app password of the user matching 'pass', or 0. */
static int64_t
app_password_match(struct dav_req *req, int64_t uid, const char *pass,
                   enum dav_store_rc *rc)
{
    struct dav_app_password *aps;
    size_t n;
    *rc = req->srv->store->app_passwords(req, uid, &aps, &n);
    if (*rc != DAV_STORE_OK || n == 0)
        return 0;
    unsigned char h[32];
    sha256_once(pass, strlen(pass), h);
    int64_t found = 0;
    for (size_t i = 0; i < n; i++)
        if (core_ct_equal(aps[i].sha256, h, 32))
            found = aps[i].id;
    return found;
}

static void
set_principal(struct dav_req *req, int64_t uid, const char *name,
              int64_t app_id)
{
    req->principal = arena_alloc(req->arena, sizeof(*req->principal));
    req->principal->id = uid;
    req->principal->name = arena_strdup(req->arena, name);
    req->app_password_id = app_id;
    req->log_user = req->principal->name;
}

/* A request on a space: the statement that finds the target checks the
 * account too (dav_target_resolve), one round trip instead of two. */
static bool
defer_account_check(const struct dav_req *req)
{
    return req->srv->store->space_lookup != NULL &&
           req->target.area == DAV_AREA_SPACE;
}

/* A login found in the credential cache: the account is still checked in
 * the database (enabled, not expired, app password not revoked). */
static struct dav_err *
cached_login(struct dav_req *req, const char *user, int64_t uid,
             int64_t app_id, bool guest)
{
    if (defer_account_check(req)) {
        set_principal(req, uid, user, app_id);
        req->principal->guest = guest;
        req->principal_unchecked = true;
        return NULL;
    }
    enum dav_store_rc rc = req->srv->store->principal_valid(req, uid, app_id);
    if (rc == DAV_STORE_OK) {
        set_principal(req, uid, user, app_id);
        req->principal->guest = guest;
        return NULL;
    }
    if (rc != DAV_STORE_NOTFOUND)
        return dav_err_from_store(req, rc, "principal");
    return unauthorized(req, "account disabled, expired or revoked");
}

static struct dav_err *login_uncached(struct dav_req *req,
                                      const char *user, const char *pass,
                                      const unsigned char key[32]);

static struct dav_err *
acl_authn(struct dav_req *req)
{
    const char *h = dav_req_header(req, "Authorization");
    if (h == NULL && req->srv->anonymous_user != NULL) {
        struct dav_user u;
        enum dav_store_rc rc = req->srv->store->user_by_name(
            req, req->srv->anonymous_user, &u);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "anonymous user");
        set_principal(req, u.id, u.name, 0);
        return NULL;
    }
    if (h == NULL)
        return unauthorized(req, "no credentials");
    /* Credentials in clear text only over TLS, from this machine, or
     * behind a proxy that terminates TLS (DESIGN.md "Security"). */
    if (!req->secure && !req->srv->trust_proxy_tls &&
        !loopback(req->client_addr))
        return dav_err_new(req, 403, "Basic credentials refused over "
                                     "plain HTTP: use HTTPS");
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
    int64_t uid, app_id;
    bool guest;
    salted_key("cred", user, pass, key);
    if (cache_get(key, user, &uid, &app_id, &guest))
        return cached_login(req, user, uid, app_id, guest);
    if (req->authn_cached_only)
        return unauthorized(req, "not verified lately");
    return login_uncached(req, user, pass, key);
}

/* What a login found holding a hashing slot. */
enum verdict {
    VERDICT_BAD,      /* verified: wrong password, no such user, disabled */
    VERDICT_GOOD,     /* verified: the account password */
    VERDICT_CACHED,   /* in the cache after all: verified meanwhile */
    VERDICT_REFUSED,  /* the name failed too often from this address */
    VERDICT_BUSY      /* no slot: too many logins waiting for one */
};

/* Verify 'pass' against 'encoded' in a hashing slot, holding no database
 * connection; the login may succeed only if 'usable' (a known, enabled
 * account).  A failure is counted before the slot is left.  Requests
 * missing the cache together (several connections of one client when its
 * entry expires) queue for a slot and look in the cache again once they
 * hold it, so that one computation serves them all instead of one each
 * (*uid, *app_id and *guest are then set).  The pair's failures are
 * counted again too: guesses sent together all read the count before any
 * of them failed, but only ACL_HASH_SLOTS of them verify at a time, each
 * after the failures of those before. */
static enum verdict
verify_queued(const char *user, const char *pass, const char *encoded,
              bool usable, const unsigned char key[32],
              const struct fail_keys *fk, int64_t *uid, int64_t *app_id,
              bool *guest)
{
    if (!hashing_enter())
        return VERDICT_BUSY;
    enum verdict v;
    if (cache_get(key, user, uid, app_id, guest)) {
        v = VERDICT_CACHED;
    } else if (fail_refused(fk)) {
        v = VERDICT_REFUSED;
    } else if (verify_in_slot(encoded, pass) && usable) {
        v = VERDICT_GOOD;
    } else {
        fail_record_all(fk);
        v = VERDICT_BAD;
    }
    hashing_leave();
    return v;
}

/* The rest of acl_authn for a login missing the cache.  The user's row and
 * app passwords are read with the request's database connection, which is
 * then given back (nothing has been written) for the slow-down, the wait
 * for a hashing slot and the verification, and taken again only for a
 * login that succeeds; an app password matched with no slow-down keeps
 * it. */
static struct dav_err *
login_uncached(struct dav_req *req, const char *user, const char *pass,
               const unsigned char key[32])
{
    struct fail_keys fk;
    fail_keys_of(user, req->client_addr, &fk);
    if (fail_refused(&fk))
        return dav_err_new(req, 429, "too many failed logins");
    struct dav_user u;
    enum dav_store_rc rc = req->srv->store->user_by_name(req, user, &u);
    if (rc != DAV_STORE_OK && rc != DAV_STORE_NOTFOUND)
        return dav_err_from_store(req, rc, "user");
    bool usable = rc == DAV_STORE_OK && !u.disabled;
    int64_t app_id = 0;
    if (usable) {
        /* App passwords are random and stored as SHA-256: checked
         * without a hashing slot. */
        app_id = app_password_match(req, u.id, pass, &rc);
        if (rc != DAV_STORE_OK)
            return dav_err_from_store(req, rc, "app passwords");
    }
    unsigned delay = wait_seconds(&fk);
    if (delay > 0 || app_id == 0)
        dav_txn_pause(req);
    if (delay > 0)
        sleep(delay);

    enum verdict v = VERDICT_GOOD;
    int64_t uid = 0;
    bool guest = false;
    if (app_id == 0) {
        /* Verify even for unknown users so that timing does not tell. */
        static const char *dummy =
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
            "sGx5x6Q1d6ZtC0z1cZlq8w2B2m4I6C5xGm0cZ8m0cZ4";
        v = verify_queued(user, pass,
                          rc == DAV_STORE_OK ? u.password_hash : dummy,
                          usable, key, &fk, &uid, &app_id, &guest);
    }
    switch (v) {
    case VERDICT_BUSY:
        return dav_err_new(req, 503, "too many logins waiting to be "
                                     "verified");
    case VERDICT_REFUSED:
        return dav_err_new(req, 429, "too many failed logins");
    case VERDICT_BAD:
        /* A name is any bytes but ':': escaped for the logs and the
         * audit trail, where a newline or a space would forge a line or
         * shift its fields. */
        req->log_user = str_log_safe(req->arena, user, false);
        log_msg(LOG_INFO, req->id, NULL,
                "failed login for user \"%s\" from %s", req->log_user,
                req->client_addr);
        return unauthorized(req, "bad credentials");
    case VERDICT_CACHED:
    case VERDICT_GOOD:
        break;
    }
    struct dav_err *err = dav_txn_resume(req);
    if (err != NULL)
        return err;
    if (v == VERDICT_CACHED)
        return cached_login(req, user, uid, app_id, guest);
    fail_clear_all(&fk);
    cache_put(key, user, u.id, app_id, u.guest);
    set_principal(req, u.id, u.name, app_id);
    req->principal->display_name = u.display_name;
    req->principal->guest = u.guest;
    return NULL;
}

bool
acl_app_password_new(char *secret, size_t secretlen, unsigned char sha[32])
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
    unsigned char rnd[24];
    if (secretlen < 30)
        return false;
    core_random(rnd, sizeof(rnd));
    size_t k = 0;
    for (size_t i = 0; i < sizeof(rnd); i++) {
        if (i > 0 && i % 6 == 0)
            secret[k++] = '-';
        secret[k++] = alphabet[rnd[i] % 32];
    }
    secret[k] = '\0';
    sha256_once(secret, k, sha);
    return true;
}

void
acl_register(struct dav_registry *r)
{
    pthread_mutex_lock(&cache.lock);
    if (!cache.ready) {
        core_random(cache.salt, sizeof(cache.salt));
        cache.ready = true;
    }
    pthread_mutex_unlock(&cache.lock);
    dav_registry_set_auth(r, acl_authn, acl_authz);
    acl_access_register(r);
}
