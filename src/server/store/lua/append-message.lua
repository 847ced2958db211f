--[[
  Stores one chat message exactly once, and publishes it when given a channel
  (without one, the caller publishes after replication).

  KEYS[1] room log (stream)     KEYS[2] room seq (counter)
  KEYS[3] room epoch (string)   KEYS[4] room dedup record (zset clientId -> offset)

  ARGV[1] epoch to use when the room has none   ARGV[2] message id
  ARGV[3] room   ARGV[4] user   ARGV[5] text   ARGV[6] ts (ms)
  ARGV[7] clientId   ARGV[8] history size
  ARGV[9] where the sender stood in the room when it first sent this
          clientId, "<epoch>:<offset>", or "" when it does not say
  ARGV[10] channel to publish on, or "" for none
  ARGV[11] PUBLISH, or SPUBLISH on Redis Cluster

  The dedup record holds one member per message still in the log and is
  trimmed with it: it costs what the capped history costs, not time x rate.

  Returns { 1, json } for a new message, { 0, json } for a clientId already
  stored (the stored message, unchanged), { 2, "" } when the clientId is not
  in the record but messages after the sender's position have left the log,
  so whether this one was stored among them can no longer be told.
]]
local stored = redis.call("ZSCORE", KEYS[4], ARGV[7])
if stored then
  local id = stored .. "-0"
  local entry = redis.call("XRANGE", KEYS[1], id, id)
  if entry[1] then
    return { 0, entry[1][2][2] }
  end
  return { 2, "" }
end

local epoch = redis.call("GET", KEYS[3])
if not epoch then
  epoch = ARGV[1]
  redis.call("SET", KEYS[3], epoch)
end

local sinceEpoch, sinceOffset = string.match(ARGV[9], "^([^:]+):(%d+)$")
if sinceEpoch == epoch then
  local first = redis.call("XRANGE", KEYS[1], "-", "+", "COUNT", 1)[1]
  local oldest = first and tonumber(string.match(first[1], "^(%d+)"))
    or tonumber(redis.call("GET", KEYS[2]) or "0") + 1
  if tonumber(sinceOffset) + 1 < oldest then
    return { 2, "" }
  end
end

local offset = redis.call("INCR", KEYS[2])
local message = cjson.encode({
  id = ARGV[2],
  room = ARGV[3],
  offset = offset,
  epoch = epoch,
  user = ARGV[4],
  text = ARGV[5],
  ts = tonumber(ARGV[6]),
  clientId = ARGV[7],
})

redis.call("XADD", KEYS[1], "MAXLEN", "~", ARGV[8], offset .. "-0", "m", message)
redis.call("ZADD", KEYS[4], offset, ARGV[7])
local first = redis.call("XRANGE", KEYS[1], "-", "+", "COUNT", 1)[1]
redis.call("ZREMRANGEBYSCORE", KEYS[4], "-inf", "(" .. string.match(first[1], "^(%d+)"))
if ARGV[10] ~= "" then
  redis.call(ARGV[11], ARGV[10], message)
end
return { 1, message }
