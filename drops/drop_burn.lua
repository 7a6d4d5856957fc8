-- Burn a drop now, on its receipt's say-so.
-- KEYS[1] drop hash, KEYS[2] receipt hash; ARGV[1] HMAC of the receipt token, ARGV[2] now.
-- Returns -1 wrong or unknown receipt, 0 already gone, 1 burned now.
local token = redis.call('HGET', KEYS[2], 'token')
if not token or token ~= ARGV[1] then
  return -1
end
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[2], 'burned', ARGV[2])
return 1
