-- POST a payment-code redemption of one unit, each code once; the codes (one per line)
-- come from the file named by the first argument, split between threads. When a
-- thread's codes are all sent its connections ask for /healthz (whose 200s are not
-- counted: a redemption answers 201 or 4xx); a connection's first 200 means all its
-- codes are answered, and when every connection has had one the thread stops. The
-- run's seconds are those from the first request to the last redemption's answer.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local codes, sent, drained, connections, goods_id = {}, 0, 0, 1, nil
local count = response

function init(args)
   local path, shop, goods, keeper = args[1], args[2], args[3], args[4]
   local clients, threads = tonumber(args[5]), tonumber(args[6])
   codes = my_share(path, threads)
   connections = math.floor(clients / threads)
   post_json("/api/v1/shops/" .. shop .. "/redemptions", keeper)
   goods_id = goods
end

function request()
   if sent == 0 then
      first_ms = now_ms()
   end
   if sent >= #codes then
      return wrk.format("GET", "/healthz")
   end
   sent = sent + 1
   return keyed_post(string.format(
      '{"code":"%s","lines":[{"goods_id":%s,"quantity":1}]}', codes[sent], goods_id))
end

function response(status, headers, body)
   if status == 200 then
      drained = drained + 1
      if drained >= connections then
         wrk.thread:stop()
      end
      return
   end
   count(status, headers, body)
   last_ms = now_ms()
end
