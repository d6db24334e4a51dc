-- Plain GET (the URL given to wrk); Authorization comes from wrk -H.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")

wrk.method = "GET"

done = common.done
