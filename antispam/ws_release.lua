-- Give back one socket place of a client, atomically.
-- KEYS: 1 the client's count. Returns what is left.
-- A count that expired while its socket was open is not brought back (DECR on a
-- missing key would make one at -1 with no TTL, and hand the client a spare place).
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
if left <= 1 then
  redis.call('DEL', KEYS[1])
  return 0
end
return redis.call('DECR', KEYS[1])
