-- POST a card redemption of one unit, each request with its own Idempotency-Key; the
-- cards (token,pin per line) come from the file named by the first argument, split
-- between threads so that no two threads pay with the same card.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local next_card, goods_id

function init(args)
   local path, shop, goods, keeper, threads = args[1], args[2], args[3], args[4], tonumber(args[5])
   next_card = rotation(my_share(path, threads))
   post_json("/api/v1/shops/" .. shop .. "/redemptions", keeper)
   goods_id = goods
end

function request()
   local token, pin = next_card():match("([^,]+),([^,]+)")
   return keyed_post(string.format(
      '{"card_token":"%s","pin":"%s","lines":[{"goods_id":%s,"quantity":1}]}', token, pin, goods_id))
end
