-- POST /oauth/token with grant_type=client_credentials (client_secret_basic).
-- BENCH_BASIC: the Authorization header value.
local report = require("report")
setup = report.setup
done = report.done
response = report.expect(200)

wrk.method = "POST"
wrk.path = "/oauth/token"
wrk.body = "grant_type=client_credentials"
wrk.headers["Authorization"] = os.getenv("BENCH_BASIC")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
