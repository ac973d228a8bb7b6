-- POST an award of one item to one household, each with its own Idempotency-Key;
-- households (one id per line) from the file named by the first argument.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local households, next_household, counter = {}, 0, 0

function init(args)
   local path, village, item, committee, threads = args[1], args[2], args[3], args[4], tonumber(args[5])
   households = my_share(path, threads)
   post_json("/api/v1/villages/" .. village .. "/awards", committee)
   item_id = item
   run = os.getenv("BENCH_RUN") or "a"
end

function request()
   counter = counter + 1
   next_household = next_household % #households + 1
   local body = string.format(
      '{"item_id":%s,"household_ids":[%s],"occurred_on":"2026-11-27"}', item_id, households[next_household])
   wrk.headers["Idempotency-Key"] = string.format("%s-%d-%d", run, id, counter)
   return wrk.format(nil, nil, nil, body)
end
