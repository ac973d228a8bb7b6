-- GET the path given by wrk with the bearer token or cookie in the first argument.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

function init(args)
   local credential = args[1] or ""
   if credential:find("=") then
      wrk.headers["Cookie"] = credential
   elseif credential ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. credential
   end
end
