-- Burn a drop now, on its receipt's say-so, and give its network its quota back.
-- KEYS[1] drop hash, KEYS[2] receipt hash; ARGV[1] HMAC of the receipt token, ARGV[2] now,
-- ARGV[3] drop id, ARGV[4] the key prefix (for the network quota keys).
-- Returns -1 wrong or unknown receipt, 0 already gone, 1 burned now.
local token = redis.call('HGET', KEYS[2], 'token')
if not token or token ~= ARGV[1] then
  return -1
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
-- The one write Redis may refuse (out of memory) comes first: then nothing changed.
redis.call('HSET', KEYS[2], 'burned', ARGV[2])
local quota = redis.call('HGET', KEYS[1], 'q')
redis.call('DEL', KEYS[1])
if quota then
  redis.call('ZREM', ARGV[4] .. 'drops:quota:' .. quota, ARGV[3])
  redis.call('HDEL', ARGV[4] .. 'drops:quota:' .. quota .. ':bytes', ARGV[3])
end
return 1
