-- Reserve a new drop's id before its files are written: an id that is live, reserved
-- or whose receipt is still kept is refused (whether its files still wait for the
-- sweeper is the media step's question: drop_media_take.lua). One slot: the drop's.
-- KEYS[1] drop hash, KEYS[2] receipt hash
-- ARGV[1] this request's reservation token, ARGV[2] seconds the reservation lasts.
-- Returns 1 reserved, 0 taken.
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'reserved', ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
