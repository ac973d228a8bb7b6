-- POST an award of one item to one household, each with its own Idempotency-Key;
-- households (one id per line) from the file named by the first argument.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local next_household, item_id

function init(args)
   local path, village, item, committee, threads = args[1], args[2], args[3], args[4], tonumber(args[5])
   next_household = rotation(my_share(path, threads))
   post_json("/api/v1/villages/" .. village .. "/awards", committee)
   item_id = item
end

function request()
   return keyed_post(string.format(
      '{"item_id":%s,"household_ids":[%s],"occurred_on":"2026-11-27"}', item_id, next_household()))
end
