-- Create a post atomically in its slot: the post hash, its topic or room feed
-- entry and, for a room post, the room's idle TTL. A topic post's home-feed
-- entry (home_add.lua, which gives its score) comes first and the trending bump
-- after, each a step of its own (boards.services.post_create).
-- KEYS: 1 post hash, 2 the slot's score sequence, 3 topic or room feed,
--       4 room key (room posts only)
-- ARGV[1]: JSON {record: the hash's field/value pairs (boards.records.POST, all
--   but the score), id, kind ("topic" or "room"), score (topic posts: from the
--   home feed) or now_ms (room posts), post_ttl, room_ttl, cutoff (feed score:
--   older entries are expired)}
-- Returns the score, or the error "no_room".
local a = cjson.decode(ARGV[1])
local post_ttl = a.post_ttl

if a.kind == 'room' then
  if redis.call('EXISTS', KEYS[4]) == 0 then
    return redis.error_reply('no_room')
  end
  redis.call('EXPIRE', KEYS[4], a.room_ttl)  -- activity keeps the room alive
end

-- A unique, time-ordered score: ms * 1000 + a per-ms sequence, built as a
-- string so no float formatting can round it.
local score = a.score
if not score then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], post_ttl)
  score = a.now_ms .. string.format('%03d', seq % 1000)
end

local record = a.record
record[#record + 1] = 'score'
record[#record + 1] = score
redis.call('HSET', KEYS[1], unpack(record))
redis.call('EXPIRE', KEYS[1], post_ttl)

redis.call('ZADD', KEYS[3], score, a.id)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. a.cutoff)
redis.call('EXPIRE', KEYS[3], post_ttl)
return score
