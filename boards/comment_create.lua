-- Create a comment atomically in its post's slot. It lives COMMENT_TTL or until
-- its post dies, whichever is sooner; a room comment keeps its room alive. (A
-- topic comment's trending bump is a step of its own, after this one.)
-- KEYS: 1 post hash, 2 comment hash, 3 the post's comment zset,
--       4 the slot's score sequence, 5 room key (room posts only)
-- ARGV[1]: JSON {record: the hash's field/value pairs (boards.records.COMMENT,
--   all but expires_at and the score), id, now_ms, now, comment_ttl, cutoff
--   (comment score), room_ttl, post_ttl}
-- Returns {score, expires_at}, or the error "no_post".
local a = cjson.decode(ARGV[1])
local post = redis.call('HMGET', KEYS[1], 'expires_at', 'hidden', 'room')
local now = a.now
if not post[1] or post[2] or tonumber(post[1]) <= now then
  return redis.error_reply('no_post')
end
local post_left_ms = redis.call('PTTL', KEYS[1])
if post_left_ms <= 0 then
  return redis.error_reply('no_post')
end

-- Never outlive the post, by its own clock or by Redis's.
local ttl = math.min(a.comment_ttl, tonumber(post[1]) - now, math.floor(post_left_ms / 1000))
if ttl < 1 then
  return redis.error_reply('no_post')
end

local seq = redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[4], a.post_ttl)
local score = a.now_ms .. string.format('%03d', seq % 1000)

local record = a.record
for _, value in ipairs({'expires_at', now + ttl, 'score', score}) do
  record[#record + 1] = value
end
redis.call('HSET', KEYS[2], unpack(record))
redis.call('EXPIRE', KEYS[2], ttl)

redis.call('ZADD', KEYS[3], score, a.id)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. a.cutoff)
redis.call('PEXPIRE', KEYS[3], post_left_ms)

if post[3] and KEYS[5] and redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('EXPIRE', KEYS[5], a.room_ttl)
end
return {score, now + ttl}
