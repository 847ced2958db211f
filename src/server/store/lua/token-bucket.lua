--[[
  One token-bucket step: takes a token if there is one.

  KEYS[1] bucket (hash: t = tokens x 1000, ts = last refill, ms)
  ARGV[1] tokens per second   ARGV[2] burst (bucket size)

  Uses the Redis clock, so that every instance sees the same time.
  Returns { 1, 0 } when allowed, { 0, ms until a token is back } when not.
]]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2]) * 1000
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local state = redis.call("HMGET", KEYS[1], "t", "ts")
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)

if tokens < 1000 then
  return { 0, math.ceil((1000 - tokens) / rate) }
end
tokens = tokens - 1000
redis.call("HSET", KEYS[1], "t", math.floor(tokens), "ts", now)
redis.call("PEXPIRE", KEYS[1], math.ceil(burst / rate) + 1000)
return { 1, 0 }
