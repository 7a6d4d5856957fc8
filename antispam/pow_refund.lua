-- Give back a challenge spent by a write that failed on the server (one slot: the
-- challenge's; its write leaves the rate through pow_uncount.lua).
-- KEYS[1] challenge key; KEYS[2] its spent key.
-- Returns 1 refunded, 0 nothing to refund (expired meanwhile, or already refunded).
if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
redis.call('RENAME', KEYS[2], KEYS[1])
return 1
