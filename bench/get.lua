-- get: GET /{tenancy}/challenges/{id}, round robin over the ids of the first lines of
-- BENCH_CHALLENGES (BENCH_GET_POOL of them). Expects 200; wrk counts any 4xx/5xx.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local paths = {}
local turn

function init(args)
  local pool = tonumber(os.getenv("BENCH_GET_POOL") or "1000")
  for _, line in ipairs(read_lines(os.getenv("BENCH_CHALLENGES"))) do
    if #paths == pool then
      break
    end
    paths[#paths + 1] = "/" .. tenancy .. "/challenges/" .. line:match("^(%S+)")
  end
  assert(#paths == pool, "fewer prepared challenges than the get pool")
  -- Threads start at different places of the round.
  turn = (thread_index * math.floor(pool / thread_count)) % pool
end

function request()
  turn = turn % #paths + 1
  return wrk.format("GET", paths[turn], api_headers)
end
