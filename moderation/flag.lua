-- Record one client network's flag on a post or comment, atomically.
-- KEYS: 1 the item's hash, 2 its voters set, 3 its flag hash, 4 the reports log (zset),
--       5 the network's flag quota counter, 6 the thread's comment zset (its audience)
-- ARGV[1]: JSON {voter (an HMAC of the network and the item), reason, now (unix
--   seconds), member (the reports log's "type:id"), reports_ttl (seconds), quota
--   (flags per network per window), window_ms, threshold (base), per_extra (comments
--   per extra flag), threshold_max}
-- Returns {status, count, threshold, retry_ms}: status 1 counted, 0 this network
-- already flagged it, -1 no such item, -2 over the network's quota (free again in
-- retry_ms; nothing counted).
local a = cjson.decode(ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then
  return {-1, 0, 0, 0}
end
-- A busier thread needs more networks to agree, up to a ceiling.
local base = tonumber(a.threshold)
local audience = redis.call('ZCARD', KEYS[6])
local threshold = math.max(base, math.min(tonumber(a.threshold_max),
  base + math.floor(audience / tonumber(a.per_extra))))
if redis.call('SISMEMBER', KEYS[2], a.voter) == 1 then
  return {0, tonumber(redis.call('HGET', KEYS[3], 'count') or '0'), threshold, 0}
end
local used = tonumber(redis.call('GET', KEYS[5]) or '0')
if used >= tonumber(a.quota) then
  return {-2, 0, threshold, redis.call('PTTL', KEYS[5])}
end
redis.call('INCR', KEYS[5])
if redis.call('PTTL', KEYS[5]) < 0 then
  redis.call('PEXPIRE', KEYS[5], a.window_ms)  -- the window starts with its first flag
end
redis.call('SADD', KEYS[2], a.voter)
local count = redis.call('HINCRBY', KEYS[3], 'count', 1)
redis.call('HINCRBY', KEYS[3], 'reason:' .. a.reason, 1)
redis.call('HSETNX', KEYS[3], 'first_at', a.now)
redis.call('HSET', KEYS[3], 'last_at', a.now)
-- Flags never outlive what they point to.
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('ZADD', KEYS[4], a.now, a.member)
redis.call('EXPIRE', KEYS[4], a.reports_ttl)
return {1, count, threshold, 0}
