-- POST /oauth/introspect (RFC 7662) of access tokens, cycling through the pool.
-- Arguments: the pool file (one access token a line), the number of wrk threads.
-- BENCH_BASIC: the Authorization header value of the client the tokens were issued to.
local report = require("report")
setup = report.setup
done = report.done
response = report.expect(200)

local tokens, i = {}, 0
local headers = {}

function init(args)
  tokens = report.pool(args[1], tonumber(args[2]))
  headers["Authorization"] = os.getenv("BENCH_BASIC")
  headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  i = i % #tokens + 1
  return wrk.format("POST", "/oauth/introspect", headers, "token=" .. tokens[i])
end
