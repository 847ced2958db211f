#!lua flags=allow-oom
--[[
  Removes presence entries whose instance stopped refreshing them (it died).

  KEYS[1] room presence   KEYS[2] room members   KEYS[3] room roster
  ARGV[1] now (ms)   ARGV[2] most entries to remove in one call

  Returns the users who left the room because of it.

  Runs also while Redis is at maxmemory (allow-oom): presence is bounded (it
  frees memory), and keeping it right matters more than a few bytes past the limit.
]]
local expired = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", "(" .. ARGV[1], "LIMIT", 0, ARGV[2])
local left = {}
for _, entry in ipairs(expired) do
  redis.call("ZREM", KEYS[1], entry)
  local user = string.match(entry, "^(.*)|[^|]*$")
  if user and redis.call("HINCRBY", KEYS[2], user, -1) <= 0 then
    redis.call("HDEL", KEYS[2], user)
    redis.call("ZREM", KEYS[3], user)
    table.insert(left, user)
  end
end
return left
