-- A DAV request with an XML body read from a file (calendar-query, multiget,
-- sync-collection, PROPFIND): method from $BENCH_METHOD (default REPORT),
-- Depth from $BENCH_DEPTH (default 1; "-" for none), body from
-- $BENCH_BODY_FILE. Authorization, if any, comes from wrk -H;
-- bench/lib/client.py checks the answers before the run.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")

wrk.method = os.getenv("BENCH_METHOD") or "REPORT"
local depth = os.getenv("BENCH_DEPTH") or "1"
if depth ~= "-" then
   wrk.headers["Depth"] = depth
end
wrk.headers["Content-Type"] = 'application/xml; charset="utf-8"'
local f = assert(io.open(assert(os.getenv("BENCH_BODY_FILE"), "BENCH_BODY_FILE unset"), "rb"))
wrk.body = f:read("*a")
f:close()

done = common.done
