/*
 * db/sealer.c -- the thread that seals the audit chain after commit
 * (0008_audit_seal.sql, decision 0013).
 *
 * Writers insert their audit rows unchained, so that their commits do not
 * wait for each other; this thread chains the committed ones on a
 * connection of its own.  A commit of this node that added audit rows
 * pokes it; it lets the interval pass, so that one sealing takes the rows
 * of many commits, then seals.  parvisctl seals its own rows.  At start,
 * and every SEAL_IDLE_SECONDS without pokes, it seals whatever waits (the
 * rows of a node that stopped before sealing them).  Several nodes may
 * each run one: the database lets one seal at a time and the others pass
 * their turn.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "db/db_int.h"

#define SEAL_IDLE_SECONDS 60

struct db_sealer {
    struct db_pool *pool;
    char *dsn;
    unsigned interval_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;                  /* under mu */
    bool poked;                 /* under mu: rows committed since the last
                                   sealing began */
};

void
db_sealer_poke(struct db_sealer *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    if (!s->poked) {
        s->poked = true;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Wait ms milliseconds, or less when 'until_poked' and a poke comes, or
 * until asked to stop; true to go on.  A poke seen is taken. */
static bool
sealer_wait(struct db_sealer *s, unsigned ms, bool until_poked)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->stop && !(until_poked && s->poked) &&
           pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT)
        ;
    if (until_poked)
        s->poked = false;
    bool go_on = !s->stop;
    pthread_mutex_unlock(&s->mu);
    return go_on;
}

/* Seal once, opening the connection when there is none; a failure closes
 * it, to be opened again next time.  'reported' keeps one failure from
 * filling the log every interval. */
static void
seal_once(struct db_sealer *s, struct db_conn **c, bool wait, bool *reported)
{
    char err[512];
    if (*c == NULL)
        *c = db_conn_open(s->dsn, err, sizeof(err));
    int64_t n = 0;
    bool ok = *c != NULL &&
              db_audit_seal(*c, wait, &n, err, sizeof(err)) == DB_ADMIN_OK;
    if (ok) {
        if (*reported)
            log_msg(LOG_INFO, NULL, NULL, "audit sealing works again");
        *reported = false;
        return;
    }
    if (!*reported)
        log_msg(LOG_WARN, NULL, err, "cannot seal the audit chain");
    *reported = true;
    if (*c != NULL)
        db_conn_close(*c);
    *c = NULL;
}

static void *
sealer_main(void *arg)
{
    struct db_sealer *s = arg;
    struct db_conn *c = NULL;
    bool reported = false;
    unsigned idle_ms = SEAL_IDLE_SECONDS * 1000;
    if (idle_ms < s->interval_ms)
        idle_ms = s->interval_ms;
    seal_once(s, &c, false, &reported);
    /* A poke, or the idle period; then the interval, for the batch. */
    while (sealer_wait(s, idle_ms, true) &&
           sealer_wait(s, s->interval_ms, false))
        seal_once(s, &c, false, &reported);
    /* What was committed before the stop is sealed before leaving. */
    seal_once(s, &c, true, &reported);
    if (c != NULL)
        db_conn_close(c);
    return NULL;
}

struct db_sealer *
db_sealer_start(struct db_pool *pool, const char *dsn, unsigned interval_ms)
{
    struct db_sealer *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->pool = pool;
    s->dsn = strdup(dsn);
    if (s->dsn == NULL) {
        free(s);
        return NULL;
    }
    s->interval_ms = interval_ms;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->thread, NULL, sealer_main, s) != 0) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s->dsn);
        free(s);
        return NULL;
    }
    db_pool_set_sealer(pool, s);
    return s;
}

void
db_sealer_stop(struct db_sealer *s)
{
    if (s == NULL)
        return;
    db_pool_set_sealer(s->pool, NULL);
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->dsn);
    free(s);
}
