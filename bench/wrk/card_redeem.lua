-- POST a card redemption of one unit, each request with its own Idempotency-Key; the
-- cards (token,pin per line) come from the file named by the first argument, split
-- between threads so that no two threads pay with the same card.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local cards, next_card, counter = {}, 0, 0

function init(args)
   local path, shop, goods, keeper, threads = args[1], args[2], args[3], args[4], tonumber(args[5])
   cards = my_share(path, threads)
   post_json("/api/v1/shops/" .. shop .. "/redemptions", keeper)
   goods_id = goods
   run = os.getenv("BENCH_RUN") or "r"
end

function request()
   counter = counter + 1
   next_card = next_card % #cards + 1
   local token, pin = cards[next_card]:match("([^,]+),([^,]+)")
   local body = string.format(
      '{"card_token":"%s","pin":"%s","lines":[{"goods_id":%s,"quantity":1}]}', token, pin, goods_id)
   wrk.headers["Idempotency-Key"] = string.format("%s-%d-%d", run, id, counter)
   return wrk.format(nil, nil, nil, body)
end
