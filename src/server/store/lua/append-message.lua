--[[
  Stores one chat message exactly once, and publishes it when given a channel
  (without one, the caller publishes after replication).

  KEYS[1] room log (stream)     KEYS[2] room seq (counter)
  KEYS[3] room epoch (string)   KEYS[4] dedup key of this clientId

  ARGV[1] epoch to use when the room has none   ARGV[2] message id
  ARGV[3] room   ARGV[4] user   ARGV[5] text   ARGV[6] ts (ms)
  ARGV[7] clientId   ARGV[8] history size   ARGV[9] dedup TTL (s)
  ARGV[10] channel to publish on, or "" for none
  ARGV[11] PUBLISH, or SPUBLISH on Redis Cluster

  Returns { 1, json } for a new message, { 0, json } for a clientId already
  stored (the stored message, unchanged).
]]
local seen = redis.call("GET", KEYS[4])
if seen then
  return { 0, seen }
end

local epoch = redis.call("GET", KEYS[3])
if not epoch then
  epoch = ARGV[1]
  redis.call("SET", KEYS[3], epoch)
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
redis.call("SET", KEYS[4], message, "EX", ARGV[9])
if ARGV[10] ~= "" then
  redis.call(ARGV[11], ARGV[10], message)
end
return { 1, message }
