-- Store a reserved drop with its receipt, expiry entry, media count and quota: all or nothing.
-- KEYS[1] drop hash, KEYS[2] receipt hash, KEYS[3] expiry index, KEYS[4] media byte count,
-- KEYS[5] the client network's live drops (zset id -> expiry), KEYS[6] its media bytes (hash)
-- ARGV[1] id, [2] now, [3] ttl, [4] expires at, [5] receipt ttl, [6] index ttl,
-- [7] bytes of all new files, [8] bytes of the voice file, [9] media cap,
-- [10] live drops per network, [11] media bytes per network, [12] n drop fields,
-- then n name/value pairs for the drop, then name/value pairs for the receipt.
-- Returns 1 stored, 0 reservation lost, -1 too many live drops, -2 network media share
-- used up, -3 media cap reached.
local now = tonumber(ARGV[2])
if redis.call('HGET', KEYS[1], 'reserved') ~= '1' then
  return 0
end
-- Forget this network's drops that have run out their life.
local old = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)
if #old > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
  redis.call('HDEL', KEYS[6], unpack(old))
end
-- A refused drop gives its id back at once (DEL works even when Redis is full).
if redis.call('ZCARD', KEYS[5]) >= tonumber(ARGV[10]) then
  redis.call('DEL', KEYS[1])
  return -1
end
local voice = tonumber(ARGV[8])
if voice > 0 then
  local used = 0
  for _, size in ipairs(redis.call('HVALS', KEYS[6])) do
    used = used + tonumber(size)
  end
  if used + voice > tonumber(ARGV[11]) then
    redis.call('DEL', KEYS[1])
    return -2
  end
  if tonumber(redis.call('GET', KEYS[4]) or '0') + tonumber(ARGV[7]) > tonumber(ARGV[9]) then
    redis.call('DEL', KEYS[1])
    return -3
  end
end
local n = tonumber(ARGV[12])
local fields, receipt = {}, {}
for i = 13, 12 + 2 * n do
  fields[#fields + 1] = ARGV[i]
end
for i = 13 + 2 * n, #ARGV do
  receipt[#receipt + 1] = ARGV[i]
end
-- A write that Redis refuses (out of memory) fails here, before anything changed.
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HDEL', KEYS[1], 'reserved')
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('HSET', KEYS[2], unpack(receipt))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
redis.call('ZADD', KEYS[3], tonumber(ARGV[4]), ARGV[1])
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[6]))
redis.call('INCRBY', KEYS[4], tonumber(ARGV[7]))
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[6]))
redis.call('ZADD', KEYS[5], tonumber(ARGV[4]), ARGV[1])
redis.call('EXPIRE', KEYS[5], tonumber(ARGV[6]))
redis.call('HSET', KEYS[6], ARGV[1], voice)
redis.call('EXPIRE', KEYS[6], tonumber(ARGV[6]))
return 1
