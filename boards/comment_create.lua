-- Create a comment atomically. It lives COMMENT_TTL or until its post dies,
-- whichever is sooner; a room comment keeps its room alive; a topic comment
-- bumps trending.
-- KEYS: 1 post hash, 2 comment hash, 3 the post's comment zset,
--       4 sequence counter, 5 room key (or an unused key), 6 trending zset,
--       7 trending epoch, 8 trending throttle key
-- ARGV: 1 comment id, 2 post id, 3 author, 4 blob, 5 now in ms, 6 now in s,
--       7 comment ttl, 8 comment cutoff score, 9 room ttl, 10 trending weight,
--       11 half-life s, 12 throttle s, 13 post ttl
-- Returns {score, expires_at, publish_trending}, or the error "no_post".
local post = redis.call('HMGET', KEYS[1], 'expires_at', 'hidden', 'topic', 'room')
local now = tonumber(ARGV[6])
if not post[1] or post[2] or tonumber(post[1]) <= now then
  return redis.error_reply('no_post')
end
local post_left_ms = redis.call('PTTL', KEYS[1])
if post_left_ms <= 0 then
  return redis.error_reply('no_post')
end

-- Never outlive the post, by its own clock or by Redis's.
local ttl = math.min(tonumber(ARGV[7]), tonumber(post[1]) - now, math.floor(post_left_ms / 1000))
if ttl < 1 then
  return redis.error_reply('no_post')
end

local seq = redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[4], ARGV[13])
local score = ARGV[5] .. string.format('%03d', seq % 1000)

redis.call('HSET', KEYS[2], 'id', ARGV[1], 'post', ARGV[2], 'author', ARGV[3], 'blob', ARGV[4],
  'created_at', ARGV[6], 'expires_at', now + ttl, 'score', score)
redis.call('EXPIRE', KEYS[2], ttl)

redis.call('ZADD', KEYS[3], score, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[8])
redis.call('PEXPIRE', KEYS[3], post_left_ms)

local publish = 0
if post[4] then
  if redis.call('EXISTS', KEYS[5]) == 1 then
    redis.call('EXPIRE', KEYS[5], ARGV[9])
  end
elseif post[3] then
  publish = trending_bump(KEYS[6], KEYS[7], KEYS[8], post[3], tonumber(ARGV[10]), now,
    tonumber(ARGV[11]), tonumber(ARGV[13]), ARGV[12])
end
return {score, now + ttl, publish}
