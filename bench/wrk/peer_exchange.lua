-- POST the peer's exchange (luoyu-points: no login, no key) of goods 1, the villagers
-- 1..N (first argument) in turn, split between threads.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local next_villager

function init(args)
   local villagers, threads = tonumber(args[1]), tonumber(args[2])
   local mine = {}
   for v = 1, villagers do
      if v % threads == id then
         table.insert(mine, v)
      end
   end
   next_villager = rotation(mine)
   wrk.path = "/api/exchange"
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   return wrk.format(nil, nil, nil, string.format('{"villager_id":%d,"goods_id":1}', next_villager()))
end
