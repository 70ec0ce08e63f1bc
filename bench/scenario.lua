-- wrk scenario driver for scimd. SCENARIO (env) picks the request shape; ids come from
-- IDS_FILE, one user id per line. done() prints one JSON line that bench.py reads.
local scenario = os.getenv("SCENARIO")
local token = os.getenv("TOKEN")
local ids, names = {}, {}
local counter = 0
local thread_tag = ""
local threads_made = 0

function setup(thread)
  threads_made = threads_made + 1
  -- WRK_TAG tells apart the wrk processes that drive several instances at once.
  thread:set("tag", (os.getenv("WRK_TAG") or "") .. os.time() .. "-" .. threads_made)
end

function init(args)
  thread_tag = tag or tostring(math.random(1, 1e9))
  for line in io.lines(os.getenv("IDS_FILE")) do
    local id, name = line:match("([^ ]+) ([^ ]+)")
    ids[#ids + 1] = id
    names[#names + 1] = name
  end
  math.randomseed(os.time() + #thread_tag)
end

local function hdrs(extra)
  local h = { ["Authorization"] = "Bearer " .. token }
  if extra then h["Content-Type"] = "application/scim+json" end
  return h
end

function request()
  local i = math.random(1, #ids)
  if scenario == "healthz" then
    return wrk.format("GET", "/healthz")
  elseif scenario == "get" or scenario == "get_in_group" then
    return wrk.format("GET", "/scim/v2/Users/" .. ids[i], hdrs())
  elseif scenario == "filter" then
    return wrk.format("GET", "/scim/v2/Users?filter=userName%20eq%20%22" .. names[i] ..
      "%22&startIndex=1&count=100", hdrs())
  elseif scenario == "list" then
    local start = math.random(0, math.max(0, math.floor(#ids / 100) - 1)) * 100 + 1
    return wrk.format("GET", "/scim/v2/Users?startIndex=" .. start .. "&count=100", hdrs())
  elseif scenario == "post" then
    counter = counter + 1
    local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new-'
      .. thread_tag .. "-" .. counter .. '@bench.example","name":{"givenName":"B","familyName":"N"},'
      .. '"emails":[{"value":"x@bench.example","type":"work","primary":true}],"active":true}'
    return wrk.format("POST", "/scim/v2/Users", hdrs(true), body)
  elseif scenario == "patch" then
    counter = counter + 1
    local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":'
      .. '[{"op":"replace","path":"title","value":"t' .. counter .. '"}]}'
    return wrk.format("PATCH", "/scim/v2/Users/" .. ids[i], hdrs(true), body)
  elseif scenario == "group_small" or scenario == "group_big" then
    -- Okta's membership PATCH: remove one member and add it back, in one request.
    local gid = os.getenv(scenario == "group_small" and "GROUP_SMALL" or "GROUP_BIG")
    if scenario == "group_small" then i = math.random(1, tonumber(os.getenv("SMALL_GROUP"))) end
    local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
      .. '{"op":"remove","path":"members[value eq \\"' .. ids[i] .. '\\"]"},'
      .. '{"op":"add","path":"members","value":[{"value":"' .. ids[i] .. '"}]}]}'
    return wrk.format("PATCH", "/scim/v2/Groups/" .. gid .. "?excludedAttributes=members",
      hdrs(true), body)
  end
end

local errors = 0
function response(status, headers, body)
  if status >= 300 and status ~= 304 then errors = errors + 1 end
end

function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests":%d,"seconds":%.3f,"p50_ms":%.3f,"p90_ms":%.3f,' ..
    '"p99_ms":%.3f,"max_ms":%.3f,"non2xx":%d}\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, summary.errors.status))
end
