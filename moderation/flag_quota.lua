-- Reserve one flag of a network's quota (the first step of a flag; the key is
-- the network's own, any slot). The quota is a set of one token per flag in the
-- window, so giving a flag back (SREM its token) is idempotent.
-- KEYS: 1 the network's quota set
-- ARGV[1]: JSON {token (random, this flag's), quota (flags per window), window_ms}
-- Returns {1, 0} when reserved, else {0, ms until the window ends}.
local a = cjson.decode(ARGV[1])
if redis.call('SCARD', KEYS[1]) >= tonumber(a.quota) then
  return {0, redis.call('PTTL', KEYS[1])}
end
redis.call('SADD', KEYS[1], a.token)
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], a.window_ms)  -- the window starts with its first flag
end
return {1, 0}
