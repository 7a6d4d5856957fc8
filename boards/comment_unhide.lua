-- Show a hidden comment again (moderation restore) at its original place.
-- KEYS: 1 comment hash, 2 the post's comment zset, 3 the post's hidden set,
--       4 post hash
-- ARGV[1]: JSON {id}
-- Returns -1 if the comment or its post is gone, 0 if it was not hidden,
-- 1 if shown again.
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[4]) == 0 then
  return -1
end
if redis.call('HDEL', KEYS[1], 'hidden') == 0 then
  return 0
end
redis.call('SREM', KEYS[3], a.id)
redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'score'), a.id)
local left = redis.call('PTTL', KEYS[4])
if redis.call('PTTL', KEYS[2]) < left then
  redis.call('PEXPIRE', KEYS[2], left)
end
return 1
