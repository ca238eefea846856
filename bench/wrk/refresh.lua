-- POST /oauth/token with grant_type=refresh_token; every refresh token is used once.
-- Arguments: the pool file (one refresh token a line), the number of wrk threads.
-- BENCH_BASIC: the Authorization header value; BENCH_SPILL: where done() writes the
-- tokens left unused, the pool of the next run.
--
-- Each thread starts with its share of the pool; the rotated refresh token of every
-- answer goes to the back of the queue, so a token is never sent twice (a second use
-- would be refused as a replay and end the grant) and the pool never runs dry. The
-- requests still under way when wrk stops lose their tokens: a run shrinks the pool by
-- at most the number of connections.
local report = require("report")
setup = report.setup

-- Globals, so that done() can read them from the threads.
queue, head, tail = {}, 1, 0
local headers = {}

function init(args)
  for _, token in ipairs(report.pool(args[1], tonumber(args[2]))) do
    tail = tail + 1
    queue[tail] = token
  end
  headers["Authorization"] = os.getenv("BENCH_BASIC")
  headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  local token = "pool-exhausted"  -- refused by the server, counted as an error
  if head <= tail then
    token = queue[head]
    queue[head] = nil
    head = head + 1
  end
  return wrk.format("POST", "/oauth/token", headers,
                    "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, _, body)
  if status ~= 200 then
    unexpected = unexpected + 1
  end
  local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if token then
    tail = tail + 1
    queue[tail] = token
  end
end

function done(summary, latency, requests)
  report.done(summary, latency, requests)
  local out = assert(io.open(os.getenv("BENCH_SPILL"), "w"))
  for _, thread in ipairs(report.threads()) do
    local left = thread:get("queue")
    for k = thread:get("head"), thread:get("tail") do
      out:write(left[k], "\n")
    end
  end
  out:close()
end
