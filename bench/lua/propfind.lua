-- PROPFIND allprop; Depth from $BENCH_DEPTH (default 1).
-- Authorization comes from wrk -H; bench/lib/client.py checks the answers.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")

wrk.method = "PROPFIND"
wrk.headers["Depth"] = os.getenv("BENCH_DEPTH") or "1"
wrk.headers["Content-Type"] = 'application/xml; charset="utf-8"'
wrk.body = '<?xml version="1.0" encoding="utf-8"?>\n' ..
   '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'

done = common.done
