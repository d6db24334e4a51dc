/*
 * tests/fuzz/fuzz_xml.c -- XML request bodies through the real dispatcher:
 * PROPFIND, PROPPATCH, LOCK, REPORT (sync-collection, version-tree, the
 * principal reports, the CalDAV reports), ACL, MKCALENDAR and extended
 * MKCOL, over the store of harness.h.
 *
 * Input: one selector byte, then the request body.  Selector bits:
 *   0-3  the request (method and URL) of the table below
 *   4-5  Depth: none, "0", "1", "infinity"
 *   6    the principal is mgr (a manager of the space, who may change
 *        ACLs) instead of alice (an editor)
 *   7    the body arrives in pieces of 7 bytes instead of one
 */
#include "tests/fuzz/fuzz.h"

#include <string.h>

#include "tests/fuzz/harness.h"

static const struct {
    const char *method;
    const char *url;
} requests[16] = {
    { "PROPFIND", FUZZ_SPACE "/" },
    { "PROPFIND", FUZZ_SPACE "/a.txt" },
    { "PROPFIND", "/dav/principals/users/alice/" },
    { "PROPFIND", FUZZ_CAL "/" },
    { "PROPPATCH", FUZZ_SPACE "/a.txt" },
    { "PROPPATCH", FUZZ_CAL "/" },
    { "LOCK", FUZZ_SPACE "/a.txt" },
    { "LOCK", FUZZ_SPACE "/new.txt" },
    { "REPORT", FUZZ_SPACE "/" },
    { "REPORT", "/dav/principals/users/" },
    { "REPORT", FUZZ_CAL "/" },
    { "ACL", FUZZ_SPACE "/a.txt" },
    { "ACL", FUZZ_SPACE "/dir/" },
    { "MKCALENDAR", "/dav/calendars/alice/team.new/" },
    { "MKCOL", FUZZ_SPACE "/newcol/" },
    { "REPORT", "/dav/history/team/a.txt" },
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_server_init();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    fuzz_store_ready();
    unsigned sel = data[0];
    static const char *const depths[4] = { NULL, "0", "1", "infinity" };
    struct fuzz_hdr hdrs[3];
    size_t nh = 0;
    hdrs[nh++] = (struct fuzz_hdr){ "Content-Type",
                                    "application/xml; charset=utf-8" };
    if (depths[(sel >> 4) & 3] != NULL)
        hdrs[nh++] = (struct fuzz_hdr){ "Depth", depths[(sel >> 4) & 3] };
    hdrs[nh] = (struct fuzz_hdr){ NULL, NULL };
    fuzz_login((sel & 0x40) != 0 ? "mgr" : "alice");
    struct dav_req *req = fuzz_request(requests[sel & 15].method,
                                       requests[sel & 15].url, hdrs, data + 1,
                                       size - 1, (sel & 0x80) != 0 ? 7 : 0);
    fuzz_done(req);
    return 0;
}
