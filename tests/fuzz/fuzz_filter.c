/*
 * tests/fuzz/fuzz_filter.c -- the calendar-query filter (RFC 4791 §9.7):
 * comp-filter, prop-filter, param-filter, text-match with its collations,
 * time-range and is-not-defined, evaluated by caldav/reports.c over the
 * objects of the calendar of harness.h (a weekly series with a time zone,
 * an exception and an override, an all-day event with RDATEs, an
 * unbounded series in a Windows zone, floating times, two VTODOs and a
 * VJOURNAL).  The report functions are static: the REPORT goes through
 * the dispatcher.
 *
 * Input: one selector byte, then the filter.  Selector bits:
 *   0-1  how the filter is used: 0 as the whole REPORT body; otherwise
 *        as the content of C:filter in a calendar-query asking for
 *        1 DAV:getetag, 2 calendar-data expanded over January-February
 *        2024, 3 calendar-data with a C:comp selection
 *   2    the request goes to one object (Depth 0) instead of the calendar
 *        (Depth 1): weekly.ics, or fuzzed.ics with bit 3
 *   3    the input holds an iCalendar object before the filter, ended by
 *        the first NUL byte: it is PUT as fuzzed.ics into the calendar
 *        first (as a client would), so that filters meet arbitrary
 *        objects too (the raw-text scan of param-filter, for one)
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/harness.h"

#define QUERY_HEAD                                                        \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"                          \
    "<C:calendar-query xmlns:D=\"DAV:\" "                                 \
    "xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop>"
#define QUERY_MID "</D:prop><C:filter>"
#define QUERY_TAIL "</C:filter></C:calendar-query>"

static const char *const props[4] = {
    NULL,
    "<D:getetag/>",
    "<D:getetag/><C:calendar-data><C:expand start=\"20240101T000000Z\" "
    "end=\"20240301T000000Z\"/></C:calendar-data>",
    "<C:calendar-data><C:comp name=\"VCALENDAR\"><C:prop name=\"VERSION\"/>"
    "<C:comp name=\"VEVENT\"><C:prop name=\"SUMMARY\"/>"
    "<C:prop name=\"UID\"/><C:prop name=\"DTSTART\"/></C:comp>"
    "<C:comp name=\"VTODO\"><C:allprop/></C:comp></C:comp>"
    "</C:calendar-data>",
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_server_init();
    return 0;
}

/* The REPORT body: the filter alone, or put in the template. */
static char *
make_body(const char *prop, const char *in, size_t inlen, size_t *len)
{
    const char *parts[5] = { QUERY_HEAD, prop, QUERY_MID, NULL, QUERY_TAIL };
    size_t lens[5];
    *len = 0;
    for (size_t i = 0; i < 5; i++) {
        lens[i] = i == 3 ? inlen : strlen(parts[i]);
        *len += lens[i];
    }
    char *body = malloc(*len > 0 ? *len : 1);
    if (body == NULL)
        abort();
    char *p = body;
    for (size_t i = 0; i < 5; i++) {
        if (lens[i] > 0)
            memcpy(p, i == 3 ? in : parts[i], lens[i]);
        p += lens[i];
    }
    return body;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    fuzz_store_ready();
    unsigned sel = data[0];
    const char *in = (const char *)data + 1;
    size_t inlen = size - 1;
    bool own = (sel & 8) != 0;
    if (own) {
        const char *nul = memchr(in, '\0', inlen);
        size_t ol = nul != NULL ? (size_t)(nul - in) : inlen;
        const struct fuzz_hdr put_hdrs[] = {
            { "Content-Type", "text/calendar; charset=utf-8" },
            { NULL, NULL },
        };
        fuzz_done(fuzz_request("PUT", FUZZ_CAL "/fuzzed.ics", put_hdrs, in,
                               ol, 0));
        in += nul != NULL ? ol + 1 : ol;
        inlen -= nul != NULL ? ol + 1 : ol;
    }

    const char *prop = props[sel & 3];
    char *body = NULL;
    size_t len = inlen;
    if (prop != NULL)
        body = make_body(prop, in, inlen, &len);
    bool one = (sel & 4) != 0;
    const struct fuzz_hdr hdrs[] = {
        { "Content-Type", "application/xml; charset=utf-8" },
        { "Depth", one ? "0" : "1" },
        { NULL, NULL },
    };
    const char *url = !one ? FUZZ_CAL "/"
                      : own ? FUZZ_CAL "/fuzzed.ics"
                            : FUZZ_CAL "/weekly.ics";
    fuzz_done(fuzz_request("REPORT", url, hdrs, body != NULL ? body : in, len,
                           0));
    free(body);
    return 0;
}
