-- Shared by the wrk scripts of bench/: prints one machine-readable summary
-- line that bench/lib/client.py parses (latencies in microseconds).
local M = {}

function M.done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%.0f duration_us=%.0f bytes=%.0f connect=%.0f read=%.0f write=%.0f " ..
      "status=%.0f timeout=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f mean_us=%.1f max_us=%.0f\n",
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.mean, latency.max))
end

return M
