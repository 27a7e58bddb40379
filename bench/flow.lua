-- flow: the sample app's sign-in by code, as a browser without cookies would make it, one
-- account (flow-N@example.com, seeded) per flow:
--   1. GET /login                        200: the CSRF cookie and the form's token
--   2. POST /login (csrf, email)          303 to /verify: the session cookie
--   3. GET /dev/mailbox?to=EMAIL          200: the code, read from the email's text
--   4. POST /verify (csrf, code)          303 to anywhere but /verify: signed in
-- wrk's Lua keeps state per thread, not per connection, so run it with one connection per
-- thread (-t N -c N): each thread's requests then go one after another on its connection.
-- A flow's latency runs from its first request to the answer of its last; the thread's next
-- flow starts right after. A flow that goes wrong counts in flow_errors and starts over with
-- the next account. Each flow is a client of its own, as a thousand people signing in are: its
-- requests carry an X-Forwarded-For address of its own, which the runner's server trusts from
-- 127.0.0.1, so the app's per-IP form throttle counts each flow apart at its default limit.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *now);
]]
local CLOCK_MONOTONIC = 1
local now_buffer = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_buffer)
  return tonumber(now_buffer.tv_sec) * 1e6 + tonumber(now_buffer.tv_nsec) / 1e3
end

local accounts = assert(tonumber(os.getenv("BENCH_ACCOUNTS")), "BENCH_ACCOUNTS is not set")

-- Only numbers and strings leave a thread (done() reads them with thread:get): wrk 4.1 has
-- crashed copying tables between threads here. So a thread's flow latencies (µs) are one
-- string of numbers, and the time of each step (total µs and answers) a global per step.
flow_latencies = ""
for step = 1, 4 do
  _G["step_us_" .. step], _G["step_count_" .. step] = 0, 0
end
flow_errors = 0
-- What the failed flows got, a line each (at most 20 per thread).
flow_failures = ""
local failures_kept = 0
out_of_accounts = 0

local step, flow_number, email, client_ip, cookies, csrf, code, started, step_started

local function next_flow()
  flow_number = (flow_number or -1) + 1
  local account = thread_index + thread_count * flow_number
  if account >= accounts then
    out_of_accounts = 1
    account = account % accounts
  end
  email = string.format("flow-%d@example.com", account)
  -- 10.0.0.0/8 holds 16.7 million addresses, more than there are accounts.
  client_ip = string.format("10.%d.%d.%d", math.floor(account / 65536) % 256, math.floor(account / 256) % 256, account % 256)
  step, cookies, csrf, code, started = 1, {}, nil, nil, nil
end

-- thread_index is set (by setup) only after the script has loaded.
function init(args)
  next_flow()
end

local function cookie_header()
  local parts = {}
  for name, value in pairs(cookies) do
    parts[#parts + 1] = name .. "=" .. value
  end
  return table.concat(parts, "; ")
end

local function form(fields)
  local parts = {}
  for _, field in ipairs(fields) do
    local value = field[2]:gsub("[^%w%-%._~]", function(c)
      return string.format("%%%02X", c:byte())
    end)
    parts[#parts + 1] = field[1] .. "=" .. value
  end
  return table.concat(parts, "&")
end

local function page_request(method, path, body)
  local headers = { ["Cookie"] = cookie_header(), ["X-Forwarded-For"] = client_ip }
  if body then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  return wrk.format(method, path, headers, body)
end

-- Builds the current step's request; it does not advance the flow (wrk may call it once
-- before the run to check it), response() does.
function request()
  step_started = now_us()
  started = started or step_started
  if step == 1 then
    return page_request("GET", "/login")
  elseif step == 2 then
    return page_request("POST", "/login", form({ { "csrf", csrf }, { "email", email } }))
  elseif step == 3 then
    return page_request("GET", "/dev/mailbox?to=" .. email)
  else
    return page_request("POST", "/verify", form({ { "csrf", csrf }, { "code", code } }))
  end
end

local function take_cookies(headers)
  for name, value in pairs(headers) do
    if name:lower() == "set-cookie" then
      local cookie_name, cookie_value = value:match("^([^=]+)=([^;]*)")
      if cookie_name then
        cookies[cookie_name] = cookie_value
      end
    end
  end
end

local function header(headers, wanted)
  for name, value in pairs(headers) do
    if name:lower() == wanted then
      return value
    end
  end
end

local function failed(status, headers, body)
  flow_errors = flow_errors + 1
  if failures_kept < 20 then
    failures_kept = failures_kept + 1
    local detail = (body:match('role="alert">([^<]*)') or body:sub(1, 120)):gsub("%s+", " ")
    flow_failures = flow_failures .. string.format("flow failed at step %d: status %d, location %s, %s\n",
      step, status, tostring((header(headers, "location"))), detail)
  end
  next_flow()
end

function response(status, headers, body)
  _G["step_us_" .. step] = _G["step_us_" .. step] + now_us() - step_started
  _G["step_count_" .. step] = _G["step_count_" .. step] + 1
  take_cookies(headers)
  if step == 1 then
    csrf = status == 200 and body:match('name="csrf" value="([^"]+)"')
    if not csrf then
      return failed(status, headers, body)
    end
  elseif step == 2 then
    if status ~= 303 or header(headers, "location") ~= "/verify" then
      return failed(status, headers, body)
    end
  elseif step == 3 then
    local text = status == 200 and body:match('<pre class="text">(.-)</pre>')
    code = text and text:match("%f[%d]%d%d%d%d%d%d%f[%D]")
    if not code then
      return failed(status, headers, body)
    end
  else
    local location = header(headers, "location")
    if status ~= 303 or location == nil or location:find("^/verify") then
      return failed(status, headers, body)
    end
    flow_latencies = flow_latencies .. string.format("%d ", now_us() - started)
    return next_flow()
  end
  step = step + 1
end

function done(summary, latency, requests)
  local flows = {}
  for _, thread in ipairs(all_threads()) do
    for value in thread:get("flow_latencies"):gmatch("%d+") do
      flows[#flows + 1] = tonumber(value)
    end
  end
  table.sort(flows)
  local function percentile(p)
    if #flows == 0 then
      return 0
    end
    return flows[math.max(1, math.ceil(#flows * p / 100))]
  end
  local seconds = summary.duration / 1e6
  local mean_ms = {}
  for i = 1, 4 do
    local count = sum_over_threads("step_count_" .. i)
    mean_ms[i] = count > 0 and sum_over_threads("step_us_" .. i) / count / 1000 or 0
  end
  for _, thread in ipairs(all_threads()) do
    io.write(thread:get("flow_failures"))
  end
  io.write(string.format(
    "flow steps, mean ms: GET /login %.2f, POST /login %.2f, GET /dev/mailbox?to= %.2f, POST /verify %.2f\n",
    mean_ms[1], mean_ms[2], mean_ms[3], mean_ms[4]))
  report(summary, latency, string.format(
    " flows=%d flows_per_s=%.1f flow_p50_us=%d flow_p99_us=%d flow_max_us=%d flow_errors=%d out_of_accounts=%d",
    #flows, #flows / seconds, percentile(50), percentile(99), flows[#flows] or 0,
    sum_over_threads("flow_errors"), sum_over_threads("out_of_accounts")))
end
