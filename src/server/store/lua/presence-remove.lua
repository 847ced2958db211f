#!lua flags=allow-oom
--[[
  Removes one presence entry.

  KEYS[1] room presence   KEYS[2] room members   KEYS[3] room roster
  ARGV[1] entry "user|instance"   ARGV[2] user

  Returns 1 when the user has no entry left (a leave to announce).

  Runs also while Redis is at maxmemory (allow-oom): presence is bounded (it
  frees memory), and keeping it right matters more than a few bytes past the limit.
]]
if redis.call("ZREM", KEYS[1], ARGV[1]) == 1 then
  if redis.call("HINCRBY", KEYS[2], ARGV[2], -1) <= 0 then
    redis.call("HDEL", KEYS[2], ARGV[2])
    redis.call("ZREM", KEYS[3], ARGV[2])
    return 1
  end
end
return 0
