-- Record one visitor's flag on a post or comment, atomically.
-- KEYS: 1 the item's hash, 2 its voters set, 3 its flag hash, 4 the reports log (zset)
-- ARGV: 1 voter id, 2 reason, 3 now (unix seconds), 4 reports member "type:id",
--       5 reports log TTL seconds
-- Returns {status, count}: status 1 counted, 0 this voter already flagged it, -1 no such item.
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then
  return {-1, 0}
end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
  return {0, tonumber(redis.call('HGET', KEYS[3], 'count') or '0')}
end
local count = redis.call('HINCRBY', KEYS[3], 'count', 1)
redis.call('HINCRBY', KEYS[3], 'reason:' .. ARGV[2], 1)
redis.call('HSETNX', KEYS[3], 'first_at', ARGV[3])
redis.call('HSET', KEYS[3], 'last_at', ARGV[3])
-- Flags never outlive what they point to.
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[4], ARGV[5])
return {1, count}
