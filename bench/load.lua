-- wrk script for the benchmark: POSTs one chat completion per request for a fixed window, then
-- parks every connection on a request whose body never completes, until wrk stops. Requests in
-- flight when wrk stops are then only those parked ones, which no server answers or bills, so
-- "answered 200" is exact for the metering check and no cheap error answer enters the latency
-- percentiles. Needs wrk built with LuaJIT (Debian's is) for a millisecond clock.
--
-- Arguments after the URL: path, window in ms, customer key ("" for none), JSON body.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
  return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local measured, parked, deadline
sent = 0 -- a global, so done() can read it from each thread

function init(args)
  local path, window_ms, key, body = args[1], tonumber(args[2]), args[3], args[4]
  -- "@file": the body is read from a file (a command-line argument holds at most 128 KiB).
  if body:sub(1, 1) == "@" then
    local f = assert(io.open(body:sub(2), "rb"))
    body = f:read("*a")
    f:close()
  end
  local headers = { ["Content-Type"] = "application/json" }
  if key ~= "" then headers["Authorization"] = "Bearer " .. key end
  measured = wrk.format("POST", path, headers, body)
  -- The same request cut after the first body byte: its Content-Length promises the rest.
  parked = measured:sub(1, #measured - #body + 1)
  deadline = now_ms() + window_ms
end

function request()
  if now_ms() < deadline then
    sent = sent + 1
    return measured
  end
  return parked
end

function done(summary, latency, requests)
  -- wrk calls request() once on the first thread before the run, to check the request parses.
  local total = -1
  for _, thread in ipairs(threads) do total = total + thread:get("sent") end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"sent":%d,"completed":%d,"non2xx":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,' ..
      '"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}\n',
    total, summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
