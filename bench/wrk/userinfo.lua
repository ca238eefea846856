-- GET /userinfo with a Bearer access token, cycling through the pool.
-- Arguments: the pool file (one access token a line), the number of wrk threads.
local report = require("report")
setup = report.setup
done = report.done
response = report.expect(200)

local tokens, i = {}, 0

function init(args)
  tokens = report.pool(args[1], tonumber(args[2]))
end

function request()
  i = i % #tokens + 1
  return wrk.format("GET", "/userinfo", {["Authorization"] = "Bearer " .. tokens[i]})
end
