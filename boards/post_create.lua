-- Create a post atomically: the post hash, its feed entries, the room's idle
-- TTL and the trending bump, all or nothing.
-- KEYS: 1 post hash, 2 sequence counter, 3 topic or room feed, 4 home feed
--       (topic posts) or room key (room posts), 5 trending zset,
--       6 trending epoch, 7 trending throttle key
-- ARGV: 1 id, 2 kind ("topic" or "room"), 3 slug or room id, 4 author,
--       5 blob, 6 now in ms, 7 now in s, 8 post ttl, 9 room ttl,
--       10 feed cutoff score (older entries are expired), 11 trending weight,
--       12 half-life s, 13 throttle s
-- Returns {score, publish_trending (0/1)}, or the error "no_room".
local kind = ARGV[2]
local post_ttl = tonumber(ARGV[8])

if kind == 'room' then
  if redis.call('EXISTS', KEYS[4]) == 0 then
    return redis.error_reply('no_room')
  end
  redis.call('EXPIRE', KEYS[4], ARGV[9])  -- activity keeps the room alive
end

-- A unique, time-ordered score: ms * 1000 + a per-ms sequence, built as a
-- string so no float formatting can round it.
local seq = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], post_ttl)
local score = ARGV[6] .. string.format('%03d', seq % 1000)

local now = tonumber(ARGV[7])
redis.call('HSET', KEYS[1], 'id', ARGV[1], kind, ARGV[3], 'author', ARGV[4],
  'blob', ARGV[5], 'created_at', ARGV[7], 'expires_at', now + post_ttl, 'score', score)
redis.call('EXPIRE', KEYS[1], post_ttl)

local function feed_add(feed)
  redis.call('ZADD', feed, score, ARGV[1])
  redis.call('ZREMRANGEBYSCORE', feed, '-inf', '(' .. ARGV[10])
  redis.call('EXPIRE', feed, post_ttl)
end

feed_add(KEYS[3])
local publish = 0
if kind == 'topic' then
  feed_add(KEYS[4])
  publish = trending_bump(KEYS[5], KEYS[6], KEYS[7], ARGV[3], tonumber(ARGV[11]), now,
    tonumber(ARGV[12]), post_ttl, ARGV[13])
end
return {score, publish}
