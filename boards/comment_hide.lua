-- Hide a comment from its post's list (moderation); remembered in the post's
-- hidden set so removing the post still takes it.
-- KEYS: 1 comment hash, 2 the post's comment zset, 3 the post's hidden set,
--       4 post hash
-- ARGV[1]: JSON {id}
-- Returns 1 if hidden now, 0 if missing or already hidden.
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'hidden') == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'hidden', '1')
redis.call('ZREM', KEYS[2], a.id)
redis.call('SADD', KEYS[3], a.id)
local left = redis.call('PTTL', KEYS[4])
if left > 0 then
  redis.call('PEXPIRE', KEYS[3], left)
else
  redis.call('EXPIRE', KEYS[3], redis.call('TTL', KEYS[1]))
end
return 1
