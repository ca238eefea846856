-- POST /login (the sign-in form) for citizens in turn: one argon2id verification each.
-- Arguments: the file of national codes (one a line), the number of wrk threads.
-- BENCH_COOKIE: the Cookie header of a browser that fetched the form;
-- BENCH_LOGIN_BODY: the form body without the code (CSRF token and password), ending
-- in "&id_code=".
--
-- The form's CSRF token is bound to the cookie's session, not to one submission, so
-- every request can carry the same pair; each successful POST starts a new SSO session.
local report = require("report")
setup = report.setup
done = report.done
response = report.expect(302)

local codes, i = {}, 0
local headers = {}
local body

function init(args)
  codes = report.pool(args[1], tonumber(args[2]))
  headers["Cookie"] = os.getenv("BENCH_COOKIE")
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  body = os.getenv("BENCH_LOGIN_BODY")
end

function request()
  i = i % #codes + 1
  return wrk.format("POST", "/login", headers, body .. codes[i])
end
