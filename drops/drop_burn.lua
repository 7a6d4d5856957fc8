-- Burn a drop now, on its receipt's say-so. One slot: the drop's. Giving its network
-- its quota back and its files' index entry are the caller's next steps (idempotent;
-- a missed one frees itself at the drop's expiry).
-- KEYS[1] drop hash, KEYS[2] receipt hash; ARGV[1] JSON {token (HMAC of the receipt
-- token), now}.
-- Returns {-1} wrong or unknown receipt, {0} already gone, {1, network quota id} burned now.
local a = cjson.decode(ARGV[1])
local token = redis.call('HGET', KEYS[2], 'token')
if not token or token ~= a.token then
  return {-1}
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0}
end
-- The one write Redis may refuse (out of memory) comes first: then nothing changed.
redis.call('HSET', KEYS[2], 'burned', a.now)
local quota = redis.call('HGET', KEYS[1], 'q')
redis.call('DEL', KEYS[1])
return {1, quota or ''}
