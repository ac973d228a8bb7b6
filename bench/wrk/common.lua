-- Shared by the wrk scripts: each thread counts its answers by status and reports
-- them as one JSON line with the latency percentiles (bench/bench.py reads it).
local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

statuses = {}

-- This thread's share of the lines of a file: no two threads use the same line.
function my_share(path, threads)
   local mine, n = {}, 0
   for line in io.lines(path) do
      if n % threads == id then
         table.insert(mine, line)
      end
      n = n + 1
   end
   return mine
end

-- Each request of a run gets its own Idempotency-Key.
local sent = 0

function keyed_post(body)
   sent = sent + 1
   wrk.headers["Idempotency-Key"] = string.format("%s-%d-%d", os.getenv("BENCH_RUN") or "run", id, sent)
   return wrk.format(nil, nil, nil, body)
end

-- The lines of `list` in turn, round and round.
function rotation(list)
   local at = 0
   return function()
      at = at % #list + 1
      return list[at]
   end
end

-- A JSON POST to `path` with a bearer token.
function post_json(path, token)
   wrk.path = path
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. token
end

-- Milliseconds on the monotonic clock (LuaJIT's ffi), for scripts that end early.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *now);
]]
local timespec = ffi.new("bench_timespec")

function now_ms()
   ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
   return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

-- A script whose threads stop when their work is done sets `first_ms` and `last_ms`
-- in each thread; the run then reports the seconds from the first request to the
-- last answer, which wrk's own duration (always the full -d) does not.
function done(summary, latency, requests)
   local counts, first, last = {}, nil, nil
   for _, thread in ipairs(threads) do
      local from, to = thread:get("first_ms"), thread:get("last_ms")
      if from and to then
         first = math.min(first or from, from)
         last = math.max(last or to, to)
      end
      local seen = thread:get("statuses")
      for status, n in pairs(seen) do
         counts[tostring(status)] = (counts[tostring(status)] or 0) + n
      end
   end
   local parts = {}
   for status, n in pairs(counts) do
      table.insert(parts, string.format('"%s": %d', status, n))
   end
   local seconds = summary.duration / 1e6
   if first and last then
      seconds = (last - first) / 1000
   end
   io.write(string.format(
      'WRK {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "statuses": {%s}}\n',
      summary.requests, seconds,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
      table.concat(parts, ", ")))
end
