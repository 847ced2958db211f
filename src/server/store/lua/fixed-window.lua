--[[
  Counts one event in a fixed time window.

  KEYS[1] counter   ARGV[1] window (ms)

  Returns { count in this window, ms until the window ends }.
]]
local count = redis.call("INCR", KEYS[1])
if count == 1 then
  redis.call("PEXPIRE", KEYS[1], ARGV[1])
end
return { count, redis.call("PTTL", KEYS[1]) }
