-- wrk script: Open311 GeoReport v2 `POST /open311/v2/requests.json` from the demo client,
-- every request a new service request (its own description and Idempotency-Key, as the
-- API documentation recommends), alternating 路灯故障 (cs.light, attribute pole_no, a
-- street address) and 道路破损 (cs.road, attribute size, lat/long). Keeps the
-- service_request_id of every acknowledged (200/201) request, so the caller can check
-- that each is stored exactly once.
local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

local function enc(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  counter = 0
  think = tonumber(os.getenv("BENCH_THINK_MS") or "0")
  math.randomseed(tid * 7919 + os.time())
  ids = {}
  statuses = {}
  key = os.getenv("BENCH_KEY")
  stamp = os.getenv("BENCH_STAMP")
  idem = os.getenv("BENCH_IDEM") ~= "0"
  light_text = enc("小区门口路灯不亮，夜间出行不便，请尽快维修。编号 ")
  road_text = enc("路口路面有一处坑洼，电动车经过很危险。编号 ")
  address = enc("东湖街道青年路社区青年路 88 号门前")
  name = enc("林")
  given = enc("秀英")
end

-- Paced runs: each connection is a client that pauses a random think time (exponential,
-- mean BENCH_THINK_MS) after every answer, so the offered rate is about
-- connections / (think + latency). Unset or 0: closed loop, the next request at once.
if (tonumber(os.getenv("BENCH_THINK_MS") or "0") or 0) > 0 then
  function delay()
    return math.floor(-think * math.log(1 - math.random()))
  end
end

function request()
  counter = counter + 1
  local ref = string.format("%s-%d-%d", stamp, tid, counter)
  local body
  if counter % 2 == 0 then
    body = "api_key=" .. key .. "&service_code=cs.light&description=" .. light_text .. ref ..
      "&address_string=" .. address .. "&attribute%5Bpole_no%5D=DH-" .. counter ..
      "&first_name=" .. given .. "&last_name=" .. name .. "&phone=13812345678"
  else
    local lat = 31.2 + (counter % 1000) / 10000
    local long = 121.4 + (tid % 100) / 1000
    body = "api_key=" .. key .. "&service_code=cs.road&description=" .. road_text .. ref ..
      "&lat=" .. string.format("%.5f", lat) .. "&long=" .. string.format("%.5f", long) ..
      "&attribute%5Bsize%5D=small"
  end
  -- wrk.format uses these instead of wrk.headers, so the content type goes here too.
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  if idem then
    headers["Idempotency-Key"] = "bench-" .. ref
  end
  return wrk.format("POST", "/open311/v2/requests.json", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 or status == 201 then
    local id = string.match(body, '"service_request_id"%s*:%s*"([^"]+)"')
    if id then
      ids[#ids + 1] = id
    end
  end
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("BENCH_IDS"), "w")
  local counts = {}
  for _, t in ipairs(threads) do
    local list = t:get("ids")
    if list then
      for _, c in ipairs(list) do out:write(c, "\n") end
    end
    local st = t:get("statuses")
    if st then
      for k, v in pairs(st) do counts[k] = (counts[k] or 0) + v end
    end
  end
  out:close()
  local s = io.open(os.getenv("BENCH_STATUSES"), "w")
  for k, v in pairs(counts) do s:write(k, " ", v, "\n") end
  s:close()
end
