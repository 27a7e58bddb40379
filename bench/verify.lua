-- verify: POST /{tenancy}/challenges/verify with the right secret and code, each prepared
-- challenge (a line of BENCH_CHALLENGES) once; thread k takes lines k, k + T, k + 2T, ...
-- Expects 200; wrk counts any 4xx/5xx. A thread that runs out of challenges sends an unknown
-- one, which answers 404 and so fails the run, and says so in `exhausted`.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local path = "/" .. tenancy .. "/challenges/verify"
local bodies = {}
local used = 0
exhausted = 0

function init(args)
  local lines = read_lines(os.getenv("BENCH_CHALLENGES"))
  for i = thread_index + 1, #lines, thread_count do
    local id, secret, code = lines[i]:match("^(%S+) (%S+) (%S+)$")
    bodies[#bodies + 1] = string.format('{"challengeId":"%s","secret":"%s","code":"%s"}', id, secret, code)
  end
end

function request()
  used = used + 1
  local body = bodies[used]
  if not body then
    exhausted = 1
    body = '{"challengeId":"exhaustedexhaustedxx","secret":"x","code":"000000"}'
  end
  return wrk.format("POST", path, api_headers, body)
end

function done(summary, latency, requests)
  report(summary, latency, string.format(" exhausted=%d", sum_over_threads("exhausted")))
end
