-- create: POST /{tenancy}/challenges with a new email each request, sendEmail false.
-- Expects 201; wrk counts any 4xx/5xx.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local path = "/" .. tenancy .. "/challenges"
local sent = 0

function request()
  sent = sent + 1
  local body = string.format(
    '{"email":"bench-%d-%d@example.com","purpose":"login","sendEmail":false}', thread_index, sent)
  return wrk.format("POST", path, api_headers, body)
end
