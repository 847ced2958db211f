#!lua flags=allow-oom
--[[
  Adds or refreshes one presence entry.

  KEYS[1] room presence (zset of "user|instance" scored by expiry)
  KEYS[2] room members (hash user -> entry count)
  KEYS[3] room roster (zset of the users, all scored 0: name order)
  ARGV[1] entry "user|instance"   ARGV[2] expires at (ms)   ARGV[3] user

  Returns 1 when the user was not in the room before (a join to announce).

  Runs also while Redis is at maxmemory (allow-oom): presence is bounded (it
  adds one entry per member), and keeping it right matters more than a few bytes past the limit.
]]
local added = redis.call("ZADD", KEYS[1], ARGV[2], ARGV[1])
if added == 1 then
  if redis.call("HINCRBY", KEYS[2], ARGV[3], 1) == 1 then
    redis.call("ZADD", KEYS[3], 0, ARGV[3])
    return 1
  end
end
return 0
