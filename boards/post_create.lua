-- Create a post atomically: the post hash, its feed entries, the room's idle
-- TTL and the trending bump, all or nothing.
-- KEYS: 1 post hash, 2 sequence counter, 3 topic or room feed, 4 home feed
--       (topic posts) or room key (room posts), 5 trending zset,
--       6 trending epoch, 7 trending throttle key
-- ARGV[1]: JSON {record: the hash's field/value pairs (boards.records.POST, all
--   but the score), id, kind ("topic" or "room"), target (slug or room id),
--   now_ms, now, post_ttl, room_ttl, cutoff (feed score: older entries are
--   expired), weight (trending), half_life, throttle (seconds)}
-- Returns {score, publish_trending (0/1)}, or the error "no_room".
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
local seq = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], post_ttl)
local score = a.now_ms .. string.format('%03d', seq % 1000)

local record = a.record
record[#record + 1] = 'score'
record[#record + 1] = score
redis.call('HSET', KEYS[1], unpack(record))
redis.call('EXPIRE', KEYS[1], post_ttl)

local function feed_add(feed)
  redis.call('ZADD', feed, score, a.id)
  redis.call('ZREMRANGEBYSCORE', feed, '-inf', '(' .. a.cutoff)
  redis.call('EXPIRE', feed, post_ttl)
end

feed_add(KEYS[3])
local publish = 0
if a.kind == 'topic' then
  feed_add(KEYS[4])
  publish = trending_bump(KEYS[5], KEYS[6], KEYS[7], a.target, a.weight, a.now,
    a.half_life, post_ttl, a.throttle)
end
return {score, publish}
