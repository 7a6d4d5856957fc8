-- Give back a challenge spent by a write that failed on the server.
-- KEYS[1] challenge key; KEYS[2] its spent key; KEYS[3] the write-rate bucket it counted in.
-- Returns 1 refunded, 0 nothing to refund (expired meanwhile, or already refunded).
if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
redis.call('RENAME', KEYS[2], KEYS[1])
if tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then
  redis.pcall('DECR', KEYS[3])
end
return 1
