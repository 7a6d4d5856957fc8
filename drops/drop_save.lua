-- Store a reserved drop with its receipt, expiry entry, media count and quota: all or nothing.
-- KEYS[1] drop hash, KEYS[2] receipt hash, KEYS[3] expiry index, KEYS[4] media byte count,
-- KEYS[5] the client network's live drops (zset id -> expiry), KEYS[6] its media bytes (hash)
-- ARGV[1] JSON {id, now, ttl, expires_at, receipt_ttl, index_ttl, file_bytes (all new
-- files), voice_bytes (the voice file), media_cap, network_drops (live drops per
-- network), network_bytes (media bytes per network), fields (n, the drop's pairs)};
-- then n name/value pairs for the drop (drops.records), then name/value pairs for the
-- receipt: their values are bytes, which JSON cannot carry.
-- Returns 1 stored, 0 reservation lost, -1 too many live drops, -2 network media share
-- used up, -3 media cap reached.
local a = cjson.decode(ARGV[1])
local now = a.now
if redis.call('HGET', KEYS[1], 'reserved') ~= '1' then
  return 0
end
-- Forget this network's drops that have run out their life.
local old = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)
if #old > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
  redis.call('HDEL', KEYS[6], unpack(old))
end
-- A refused drop gives its id back at once (DEL works even when Redis is full).
if redis.call('ZCARD', KEYS[5]) >= a.network_drops then
  redis.call('DEL', KEYS[1])
  return -1
end
local voice = a.voice_bytes
if voice > 0 then
  local used = 0
  for _, size in ipairs(redis.call('HVALS', KEYS[6])) do
    used = used + tonumber(size)
  end
  if used + voice > a.network_bytes then
    redis.call('DEL', KEYS[1])
    return -2
  end
  if tonumber(redis.call('GET', KEYS[4]) or '0') + a.file_bytes > a.media_cap then
    redis.call('DEL', KEYS[1])
    return -3
  end
end
local n = a.fields
local fields, receipt = {}, {}
for i = 2, 1 + 2 * n do
  fields[#fields + 1] = ARGV[i]
end
for i = 2 + 2 * n, #ARGV do
  receipt[#receipt + 1] = ARGV[i]
end
-- A write that Redis refuses (out of memory) fails here, before anything changed.
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HDEL', KEYS[1], 'reserved')
redis.call('EXPIRE', KEYS[1], a.ttl)
redis.call('HSET', KEYS[2], unpack(receipt))
redis.call('EXPIRE', KEYS[2], a.receipt_ttl)
redis.call('ZADD', KEYS[3], a.expires_at, a.id)
redis.call('EXPIRE', KEYS[3], a.index_ttl)
redis.call('INCRBY', KEYS[4], a.file_bytes)
redis.call('EXPIRE', KEYS[4], a.index_ttl)
redis.call('ZADD', KEYS[5], a.expires_at, a.id)
redis.call('EXPIRE', KEYS[5], a.index_ttl)
redis.call('HSET', KEYS[6], a.id, voice)
redis.call('EXPIRE', KEYS[6], a.index_ttl)
return 1
