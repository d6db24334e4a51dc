/*
 * pgfloor: what PostgreSQL alone takes to store a file the way Parvis
 * stores an upload (DESIGN.md, Storage), with no HTTP server around it.
 *
 *   pgfloor DSN FILE KEY
 *
 * Reads FILE in chunks of 256 KiB (DAV_CHUNK_SIZE) and stores each one as
 * a row of bench_floor_chunks, made by the bench like Parvis' chunks table
 * (bytea, storage EXTERNAL), in one transaction committed with PostgreSQL's default
 * durability, as parvisd does: prepared INSERT ... ON CONFLICT DO NOTHING
 * with binary parameters, sent ahead in pipeline mode three chunks at a
 * time on a socket whose send buffer holds them (db/pg_store.c, AHEAD_MAX
 * and AHEAD_SNDBUF).  There is nothing else: no client connection, no
 * hashing (a chunk's key is its first 32 bytes, random content being
 * unique), no revision or audit rows, no node cache.  KEY goes in the
 * space_id column, so that every run writes new rows.
 *
 * Prints the seconds from BEGIN to the end of COMMIT.  Exit status 1 on
 * any error, with PostgreSQL's message on standard error.
 */
#define _DEFAULT_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CHUNK = 256 * 1024, AHEAD = 3, KEYLEN = 32 };

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
fail(PGconn *pg, const char *what)
{
    fprintf(stderr, "pgfloor: %s: %s", what, PQerrorMessage(pg));
    return 1;
}

/* Read the results of the oldest group sent ahead, up to its sync. */
static int
settle(PGconn *pg)
{
    for (;;) {
        PGresult *r = PQgetResult(pg);
        if (r == NULL)
            continue; /* end of one statement's results */
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            return 0;
        }
        if (st != PGRES_COMMAND_OK) {
            fprintf(stderr, "pgfloor: insert: %s", PQresultErrorMessage(r));
            PQclear(r);
            return 1;
        }
        PQclear(r);
    }
}

static ssize_t
read_full(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: pgfloor DSN FILE KEY\n");
        return 2;
    }
    PGconn *pg = PQconnectdb(argv[1]);
    if (PQstatus(pg) != CONNECTION_OK)
        return fail(pg, "connect");
    int fd = open(argv[2], O_RDONLY);
    if (fd < 0) {
        perror(argv[2]);
        return 1;
    }
    int sndbuf = AHEAD * CHUNK + 65536;
    (void)setsockopt(PQsocket(pg), SOL_SOCKET, SO_SNDBUF, &sndbuf,
                     sizeof sndbuf);
    PGresult *r = PQprepare(pg, "chunk_put",
                            "INSERT INTO bench_floor_chunks "
                            "(space_id, sha256, size, data) "
                            "VALUES ($1::int8, $2, $3::int4, $4) "
                            "ON CONFLICT DO NOTHING",
                            4, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return fail(pg, "prepare");
    PQclear(r);

    /* libpq copies a statement's parameters as it is sent: one buffer. */
    char *d = malloc(CHUNK);
    if (d == NULL)
        return 1;
    uint64_t key_be = htobe64((uint64_t)strtoll(argv[3], NULL, 10));

    double t0 = now();
    r = PQexec(pg, "BEGIN");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return fail(pg, "begin");
    PQclear(r);
    if (!PQenterPipelineMode(pg))
        return fail(pg, "pipeline");
    int inflight = 0;
    for (;;) {
        ssize_t n = read_full(fd, d, CHUNK);
        if (n < 0) {
            perror(argv[2]);
            return 1;
        }
        if (n == 0)
            break;
        while (inflight >= AHEAD) {
            if (settle(pg))
                return 1;
            inflight--;
        }
        uint32_t size_be = htobe32((uint32_t)n);
        const char *vals[4] = {(const char *)&key_be, d,
                               (const char *)&size_be, d};
        int lens[4] = {8, n < KEYLEN ? (int)n : KEYLEN, 4, (int)n};
        int fmts[4] = {1, 1, 1, 1};
        if (!PQsendQueryPrepared(pg, "chunk_put", 4, vals, lens, fmts, 0) ||
            !PQpipelineSync(pg) || PQflush(pg) != 0)
            return fail(pg, "send");
        inflight++;
    }
    while (inflight-- > 0)
        if (settle(pg))
            return 1;
    if (!PQexitPipelineMode(pg))
        return fail(pg, "pipeline end");
    r = PQexec(pg, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return fail(pg, "commit");
    PQclear(r);
    printf("%.6f\n", now() - t0);
    PQfinish(pg);
    free(d);
    close(fd);
    return 0;
}
