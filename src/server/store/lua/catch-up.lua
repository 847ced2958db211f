--[[
  What a (re)joining client needs, in one step: the room's epoch (made when
  the room has none), its latest offset, and either the messages after the
  client's position or, when those cannot be replayed, the latest ones.

  KEYS[1] room log (stream, entry ids "<offset>-0")
  KEYS[2] room seq (latest offset)
  KEYS[3] room epoch
  ARGV[1] a new epoch, kept only when the room has none
  ARGV[2] the client's epoch ("" when it has no position)
  ARGV[3] the client's offset
  ARGV[4] replay page size
  ARGV[5] how many of the latest messages a client gets otherwise

  Returns {epoch, offset, mode, entries}. mode "current": nothing was missed;
  "replay": the entries right after the client's offset, oldest first;
  "latest": the latest entries, newest first (the history no longer reaches
  back to the client's position, its epoch is another, or it has none).
]]
-- Written only when missing, so that a room with history stays readable
-- while Redis refuses writes (at maxmemory).
local epoch = redis.call("GET", KEYS[3])
if not epoch then
  epoch = ARGV[1]
  redis.call("SET", KEYS[3], epoch)
end
local offset = tonumber(redis.call("GET", KEYS[2]) or "0")
if ARGV[2] == epoch then
  local since = tonumber(ARGV[3])
  if since >= offset then
    return {epoch, offset, "current", {}}
  end
  local first = string.format("%d-0", since + 1)
  local gap = redis.call("XRANGE", KEYS[1], first, "+", "COUNT", ARGV[4])
  if #gap > 0 and gap[1][1] == first then
    return {epoch, offset, "replay", gap}
  end
end
return {epoch, offset, "latest", redis.call("XREVRANGE", KEYS[1], "+", "-", "COUNT", ARGV[5])}
