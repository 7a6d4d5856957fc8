-- A client's wrong keys across drops: check its cap, and count one more if asked.
-- One slot: the client's (a single key).
-- KEYS[1] the client's count; ARGV[1] the cap, ARGV[2] the window (seconds), ARGV[3] '1'
-- to count a wrong key, '0' only to ask.
-- Returns {0} under the cap (counted if asked), {1, seconds to wait} at the cap (not counted).
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  local ttl = redis.call('TTL', KEYS[1])
  return {1, ttl > 0 and ttl or tonumber(ARGV[2])}
end
if ARGV[3] == '1' and redis.call('INCR', KEYS[1]) == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return {0}
