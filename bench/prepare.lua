-- Not measured: creates challenges like create.lua and writes `id secret code` per created
-- challenge to BENCH_CHALLENGES.<thread>, for get.lua and verify.lua.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "create.lua")

local out

function init(args)
  out = assert(io.open(os.getenv("BENCH_CHALLENGES") .. "." .. thread_index, "w"))
end

function response(status, headers, body)
  if status ~= 201 then
    return
  end
  local id = body:match('"challengeId":"([^"]+)"')
  local secret = body:match('"secret":"([^"]+)"')
  local code = body:match('"code":"([^"]+)"')
  if id and secret and code then
    out:write(id, " ", secret, " ", code, "\n")
    out:flush()
  end
end
