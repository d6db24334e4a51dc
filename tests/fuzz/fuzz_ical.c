/*
 * tests/fuzz/fuzz_ical.c -- iCalendar ingestion as a PUT into a calendar
 * does it, and the time computations of the reports: the input is the
 * iCalendar text.
 *
 *   caldav_ical_parse      libical's parser, handed to the arena
 *   caldav_ical_validate   RFC 4791 §4.1 / §5.3.2 checks and the index
 *                          entry (with no component restriction, and as
 *                          a VEVENT-only calendar)
 *   caldav_overlaps        for each component kind, over January 2024
 *                          and over [2024-01-01, unbounded)
 *   caldav_instances       for each kind, over January-February 2024
 *
 * Invariants: a valid object has a UID, a component and start <= end in
 * its index entry; every instance ends no earlier than it starts.
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "caldav/caldav_int.h"

#define JAN_2024 INT64_C(1704067200)  /* 2024-01-01T00:00:00Z */
#define FEB_2024 INT64_C(1706745600)  /* 2024-02-01T00:00:00Z */
#define MAR_2024 INT64_C(1709251200)  /* 2024-03-01T00:00:00Z */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_ERROR + 1);
    return 0;
}

struct count {
    size_t n;
};

static bool
instance_cb(void *ctx, icalcomponent *comp, int64_t start, int64_t end,
            int64_t rid)
{
    struct count *c = ctx;
    (void)rid;
    if (comp == NULL)
        fuzz_fail("instance without a component");
    if (end < start)
        fuzz_fail("instance ends (%lld) before it starts (%lld)",
                  (long long)end, (long long)start);
    c->n++;
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* caldav/ only needs the request's arena here. */
    /* A server with every limit at its default (fields left 0). */
    static const struct dav_server srv;
    struct dav_req req;
    memset(&req, 0, sizeof(req));
    req.arena = arena_create();
    req.srv = &srv;
    req.id = "fuzz";

    if (size < 64) {
        char *s = fuzz_cstr(data, size);
        int64_t t;
        (void)caldav_parse_utc(s, &t);
        free(s);
    }

    icalcomponent *vcal = caldav_ical_parse(req.arena, (const char *)data, size);
    if (vcal != NULL) {
        static const char *const restrict_to[2] = { NULL, "VEVENT" };
        bool stored = false;
        for (size_t i = 0; i < 2; i++) {
            struct caldav_index ix;
            struct dav_err *err = caldav_ical_validate(&req, vcal,
                                                       restrict_to[i], &ix);
            if (err == NULL && (ix.uid == NULL || ix.component == NULL ||
                                ix.start > ix.end))
                fuzz_fail("index entry uid %s component %s [%lld, %lld)",
                          ix.uid ? ix.uid : "(null)",
                          ix.component ? ix.component : "(null)",
                          (long long)ix.start, (long long)ix.end);
            if (err != NULL && (err->status < 400 || err->status > 499))
                fuzz_fail("validation answers %d", err->status);
            if (i == 0)
                stored = err == NULL;
        }
        /* Reports only ever expand objects that PUT accepted. */
        if (!stored)
            goto done;
        static const icalcomponent_kind kinds[4] = {
            ICAL_VEVENT_COMPONENT, ICAL_VTODO_COMPONENT,
            ICAL_VJOURNAL_COMPONENT, ICAL_VFREEBUSY_COMPONENT,
        };
        for (size_t k = 0; k < 4; k++) {
            (void)caldav_overlaps(vcal, kinds[k], JAN_2024, FEB_2024,
                                  CALDAV_DEFAULT_INSTANCES);
            (void)caldav_overlaps(vcal, kinds[k], JAN_2024, CALDAV_TIME_MAX,
                                  CALDAV_DEFAULT_INSTANCES);
            struct count c = { 0 };
            (void)caldav_instances(vcal, kinds[k], JAN_2024, MAR_2024,
                                   CALDAV_DEFAULT_INSTANCES, instance_cb,
                                   &c);
        }
    }
done:
    arena_destroy(req.arena);
    return 0;
}
