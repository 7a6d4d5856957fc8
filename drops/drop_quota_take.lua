-- Count a new drop against its client network's share: live drops and voice bytes.
-- One slot: the network's. Entries carry the drop's expiry as their score and are
-- pruned by it, so one a crash left behind frees itself when its drop would have gone.
-- KEYS[1] the network's live drops (zset id -> expiry), KEYS[2] their voice bytes (hash)
-- ARGV[1] JSON {id, now, expires_at, voice_bytes, network_drops (live drops allowed),
-- network_bytes (voice bytes allowed), index_ttl}.
-- Returns 1 counted, 0 the id is counted already (taken: nothing changed), -1 too many
-- live drops, -2 the network's voice share is used up.
local a = cjson.decode(ARGV[1])
-- Forget this network's drops that have run out their life.
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', a.now)
if #old > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', a.now)
  redis.call('HDEL', KEYS[2], unpack(old))
end
if redis.call('ZSCORE', KEYS[1], a.id) then
  return 0
end
if redis.call('ZCARD', KEYS[1]) >= a.network_drops then
  return -1
end
local voice = a.voice_bytes
if voice > 0 then
  local used = 0
  for _, size in ipairs(redis.call('HVALS', KEYS[2])) do
    used = used + tonumber(size)
  end
  if used + voice > a.network_bytes then
    return -2
  end
end
-- A write that Redis refuses (out of memory) fails here, before anything changed.
redis.call('ZADD', KEYS[1], a.expires_at, a.id)
redis.call('EXPIRE', KEYS[1], a.index_ttl)
redis.call('HSET', KEYS[2], a.id, voice)
redis.call('EXPIRE', KEYS[2], a.index_ttl)
return 1
