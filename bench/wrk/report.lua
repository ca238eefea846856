-- Shared by every scenario script: thread numbering, token pools and the summary line.
--
-- wrk loads a scenario script once per thread (and once more for setup/done), so a
-- pool file is split between the threads: thread i of n takes lines i+1, i+1+n, ...
-- The scripts are run with bench/wrk as the working directory, so require finds this.

local M = {}
local threadlist = {}

-- Answers whose status was not the one the scenario expects (counted per thread).
unexpected = 0

-- setup(thread) is called in the main state before each thread's init.
function M.setup(thread)
  thread:set("thread_index", #threadlist)
  threadlist[#threadlist + 1] = thread
end

-- The thread objects, for done() to read their globals.
function M.threads()
  return threadlist
end

-- Return a response() that counts answers other than status code.
function M.expect(code)
  return function(status)
    if status ~= code then
      unexpected = unexpected + 1
    end
  end
end

-- Return this thread's share of the non-empty lines of path.
function M.pool(path, nthreads)
  local mine, n = {}, 0
  for line in io.lines(path) do
    if line ~= "" then
      if n % nthreads == thread_index then
        mine[#mine + 1] = line
      end
      n = n + 1
    end
  end
  return mine
end

-- done() prints wrk's summary as one JSON line that bench/run.py reads (times in us).
function M.done(summary, latency, requests)
  local e = summary.errors
  local wrong = 0
  for _, thread in ipairs(threadlist) do
    wrong = wrong + (thread:get("unexpected") or 0)
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "unexpected": %d, "p50_us": %d, ' ..
    '"p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, wrong,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    latency.max))
end

return M
