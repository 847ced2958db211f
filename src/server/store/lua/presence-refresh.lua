#!lua flags=allow-oom
--[[
  Pushes the expiry of this instance's entries in one room forward.

  KEYS[1] room presence (zset of "user|instance" scored by expiry)
  ARGV[1] new expiry (ms)   ARGV[2..] entries "user|instance"

  Only updates entries that exist (XX). Runs also while Redis is at maxmemory
  (allow-oom), so that the members of a full Redis do not expire and vanish.
]]
for i = 2, #ARGV do
  redis.call("ZADD", KEYS[1], "XX", ARGV[1], ARGV[i])
end
return 0
