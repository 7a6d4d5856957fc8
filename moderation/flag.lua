-- Record one client network's flag on a post or comment, atomically in the
-- item's slot. The network's quota was reserved in the step before
-- (flag_quota.lua; its own slot); the caller gives it back unless this counts.
-- KEYS: 1 the item's hash, 2 its voters set, 3 its flag hash,
--       4 the thread's comment zset (its audience)
-- ARGV[1]: JSON {voter (an HMAC of the network and the item), reason, now (unix
--   seconds), threshold (base), per_extra (comments per extra flag),
--   threshold_max, reserved (the quota step let this flag through), retry_ms (if
--   not: when the quota frees up)}
-- Returns {status, count, threshold, retry_ms}: status 1 counted, 0 this network
-- already flagged it, -1 no such item, -2 over the network's quota (free again in
-- retry_ms; nothing counted). In that order, as one script used to decide.
local a = cjson.decode(ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then
  return {-1, 0, 0, 0}
end
-- A busier thread needs more networks to agree, up to a ceiling.
local base = tonumber(a.threshold)
local audience = redis.call('ZCARD', KEYS[4])
local threshold = math.max(base, math.min(tonumber(a.threshold_max),
  base + math.floor(audience / tonumber(a.per_extra))))
if redis.call('SISMEMBER', KEYS[2], a.voter) == 1 then
  return {0, tonumber(redis.call('HGET', KEYS[3], 'count') or '0'), threshold, 0}
end
if not a.reserved then
  return {-2, 0, threshold, a.retry_ms}
end
redis.call('SADD', KEYS[2], a.voter)
local count = redis.call('HINCRBY', KEYS[3], 'count', 1)
redis.call('HINCRBY', KEYS[3], 'reason:' .. a.reason, 1)
redis.call('HSETNX', KEYS[3], 'first_at', a.now)
redis.call('HSET', KEYS[3], 'last_at', a.now)
-- Flags never outlive what they point to.
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return {1, count, threshold, 0}
