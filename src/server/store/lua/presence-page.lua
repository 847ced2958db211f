--[[
  One page of a room's members in name order, and how many there are.

  KEYS[1] room members (hash user -> entry count)   KEYS[2] room roster
  ARGV[1] the name the page starts after ("" for the first page)
  ARGV[2] most names to return

  Returns {count, more (0 or 1), name, name, ...}. A roster that does not
  hold as many names as the hash (members written before the roster
  existed) is rebuilt first, once.
]]
local count = redis.call("HLEN", KEYS[1])
if redis.call("ZCARD", KEYS[2]) ~= count then
  redis.call("DEL", KEYS[2])
  local names = redis.call("HKEYS", KEYS[1])
  for i = 1, #names, 500 do
    local args = {}
    for j = i, math.min(i + 499, #names) do
      args[#args + 1] = 0
      args[#args + 1] = names[j]
    end
    redis.call("ZADD", KEYS[2], unpack(args))
  end
end
local from = "-"
if ARGV[1] ~= "" then from = "(" .. ARGV[1] end
local limit = tonumber(ARGV[2])
local page = redis.call("ZRANGE", KEYS[2], from, "+", "BYLEX", "LIMIT", 0, limit + 1)
local more = 0
if #page > limit then
  more = 1
  page[#page] = nil
end
local reply = {count, more}
for _, name in ipairs(page) do reply[#reply + 1] = name end
return reply
