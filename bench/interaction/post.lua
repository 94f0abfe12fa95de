-- wrk script: POST a new message to the public form, each with its own idempotency key,
-- and keep the tracking code of every acknowledged (200) submission, so the caller can
-- check that each one is stored exactly once.
local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  think = tonumber(os.getenv("BENCH_THINK_MS") or "0")
  math.randomseed(tid * 7919 + os.time())
  codes = {}
  statuses = {}
  token = os.getenv("BENCH_TOKEN")
  answer = os.getenv("BENCH_ANSWER")
  path = os.getenv("BENCH_PATH")
  stamp = os.getenv("BENCH_STAMP")
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

local function enc(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local title = enc("关于小区门口道路积水的建议")
local content = enc("每逢下雨，东湖路小区门口路段积水严重，行人和车辆通行困难，建议疏通排水管道。")
local name = enc("测试用户")

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
  local idem = string.format("bench-%s-%d-%d", stamp, tid, counter)
  local body = "kind=suggest&addressee=leader&title=" .. title .. "&content=" .. content ..
    "&name=" .. name .. "&phone=13812345678&agree=1&idem=" .. idem ..
    "&token=" .. token .. "&answer=" .. answer
  return wrk.format("POST", path, nil, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    local code = string.match(body, "LY%d+%-%w+")
    if code then
      codes[#codes + 1] = code
    end
  end
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("BENCH_CODES"), "w")
  for _, t in ipairs(threads) do
    local list = t:get("codes")
    if list then
      for _, c in ipairs(list) do out:write(c, "\n") end
    end
  end
  out:close()
  local counts = {}
  for _, t in ipairs(threads) do
    local st = t:get("statuses")
    if st then
      for k, v in pairs(st) do counts[k] = (counts[k] or 0) + v end
    end
  end
  local s = io.open(os.getenv("BENCH_STATUSES"), "w")
  for k, v in pairs(counts) do s:write(k, " ", v, "\n") end
  s:close()
end
