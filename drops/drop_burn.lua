-- Burn a drop now, on its receipt's say-so, and give its network its quota back.
-- KEYS[1] drop hash, KEYS[2] receipt hash; ARGV[1] JSON {token (HMAC of the receipt
-- token), now, id, quota_prefix and quota_bytes_suffix (drops.keys)}.
-- Returns -1 wrong or unknown receipt, 0 already gone, 1 burned now.
local a = cjson.decode(ARGV[1])
local token = redis.call('HGET', KEYS[2], 'token')
if not token or token ~= a.token then
  return -1
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
-- The one write Redis may refuse (out of memory) comes first: then nothing changed.
redis.call('HSET', KEYS[2], 'burned', a.now)
local quota = redis.call('HGET', KEYS[1], 'q')
redis.call('DEL', KEYS[1])
if quota then
  redis.call('ZREM', a.quota_prefix .. quota, a.id)
  redis.call('HDEL', a.quota_prefix .. quota .. a.quota_bytes_suffix, a.id)
end
return 1
