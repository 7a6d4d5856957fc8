-- Reserve a new drop's id before its files are written: a client-made id that is
-- taken (live, its receipt still kept, or its files not yet swept) is refused.
-- KEYS[1] drop hash, KEYS[2] receipt hash, KEYS[3] expiry index (zset)
-- ARGV[1] drop id, ARGV[2] seconds the reservation lasts. Returns 1 reserved, 0 taken.
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'reserved', '1')
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
