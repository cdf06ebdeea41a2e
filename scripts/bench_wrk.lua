-- wrk script of the HTTP benchmark (scripts/bench_http.py):
--   wrk ... -s scripts/bench_wrk.lua http://127.0.0.1:PORT -- PATHS_FILE [BEARER_TOKEN]
-- Each thread cycles through the paths in PATHS_FILE (one per line), starting at a different place, with the
-- token as 'Authorization: Bearer ...' when one is given. At the end it prints one machine-readable line with the
-- counts and the latency percentiles (wrk's own --latency output has no p95).

local counter = 0

function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
end

local paths = {}
local position = 1

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("no paths in " .. args[1])
  end
  if args[2] ~= nil and args[2] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[2]
  end
  position = ((thread_index or 0) * 7919) % #paths + 1
end

function request()
  local path = paths[position]
  position = position % #paths + 1
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d status_errors=%d connect=%d read=%d write=%d timeout=%d "
      .. "p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max
  ))
end
