-- Appended to every bench wrk script: numbers the threads (the global
-- "id", 1 to wrk's -t, in each thread) and, at the end, prints the one
-- line the bench reads. A script that defines response() would make wrk
-- hand every answer to Lua and measure that instead: answers with an
-- error status are counted by wrk itself (errors.status).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
