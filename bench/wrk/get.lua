-- A plain GET of the URL given to wrk (discovery, JWKS).
local report = require("report")
setup = report.setup
done = report.done
response = report.expect(200)
