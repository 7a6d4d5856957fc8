-- wrk script for tests/perf/bench_all.py: send the requests listed in a file, each at
-- most once. Writes need a fresh proof-of-work challenge (or a fresh drop) per request,
-- so the bench prepares them and wrk only sends them.
--
--   wrk -t1 -c16 -dSECONDS URL -s tests/perf/wrk_list.lua -- FILE
--
-- FILE: one request per line, tab-separated: method, path, Cookie header, X-CSRFToken
-- header, JSON body. Once every listed request has been sent, connections still asking
-- get GET /bench/spare (204, not counted). Prints "answered N failed N seconds S": the
-- listed requests answered, those answered >= 300, and the wall-clock time from the
-- first listed request to the last listed answer (/proc/uptime, 10 ms steps; wrk itself
-- only times the whole -d run); then the first failure and the latency p50 and p99 in
-- microseconds (wrk's record, which includes the few spare requests).

-- Globals, not locals: done() reads them through thread:get().
queue, index, total = {}, 1, 0
answered, failed, first_failure = 0, 0, ""
started, finished = 0, 0
spare, verified = nil, false
local threads = {}

local function uptime()
  local file = io.open("/proc/uptime")
  local now = file:read("*n")
  file:close()
  return now
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local method, path, cookie, csrf, body =
      line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = { ["Cookie"] = cookie, ["X-CSRFToken"] = csrf }
    if body ~= "" then
      headers["Content-Type"] = "application/json"
    else
      body = nil
    end
    table.insert(queue, wrk.format(method, path, headers, body))
  end
  total = #queue
  spare = wrk.format("GET", "/bench/spare")
end

function request()
  -- wrk calls request() once before connecting, to check what it returns; that call
  -- must not use up a listed request. Run with -t1.
  if not verified then
    verified = true
    return spare
  end
  local next_request = queue[index]
  if next_request == nil then
    return spare
  end
  if index == 1 then
    started = uptime()
  end
  index = index + 1
  return next_request
end

function response(status, headers, body)
  if status == 204 then
    return
  end
  answered = answered + 1
  finished = uptime()
  if status >= 300 then
    failed = failed + 1
    if first_failure == "" then
      first_failure = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("answered %d failed %d seconds %.2f\n", thread:get("answered"),
      thread:get("failed"), thread:get("finished") - thread:get("started")))
    io.write("first failure: " .. thread:get("first_failure") .. "\n")
  end
  io.write(string.format("p50 %d p99 %d\n", latency:percentile(50), latency:percentile(99)))
end
