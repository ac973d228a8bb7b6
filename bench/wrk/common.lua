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

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts = {}
   for _, thread in ipairs(threads) do
      local seen = thread:get("statuses")
      for status, n in pairs(seen) do
         counts[tostring(status)] = (counts[tostring(status)] or 0) + n
      end
   end
   local parts = {}
   for status, n in pairs(counts) do
      table.insert(parts, string.format('"%s": %d', status, n))
   end
   io.write(string.format(
      'WRK {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "statuses": {%s}}\n',
      summary.requests, summary.duration / 1e6,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
      table.concat(parts, ", ")))
end
