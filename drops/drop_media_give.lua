-- Give back a claim's media index entry and its bytes (its drop was never stored):
-- the bytes only with the entry, so a second call (or one after the sweeper took the
-- entry and re-counted) takes nothing off twice. One slot: the media index's.
-- KEYS[1] expiry index, KEYS[2] media byte count; ARGV[1] drop id, ARGV[2] its bytes.
-- Returns 1 given back, 0 nothing left to give.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('DECRBY', KEYS[2], ARGV[2])
  return 1
end
return 0
