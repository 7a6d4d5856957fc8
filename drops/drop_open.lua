-- Open a drop with one access key: check, mark used, count the view, burn on the last.
-- KEYS[1] drop hash, KEYS[2] receipt hash, KEYS[3] expiry index (zset)
-- ARGV[1] HMAC of the key, ARGV[2] now (unix seconds), ARGV[3] drop id,
-- ARGV[4] seconds the audio file may outlive a burned voice drop (its ticket's life)
-- Returns {0} gone, {-1} wrong key, {-2} used key, or
-- {1, views_left, wrapped data key, kind, sealed text, mime, burned (0/1), expires at}.
local drop = KEYS[1]
local now = tonumber(ARGV[2])
local exp = redis.call('HGET', drop, 'exp')
if not exp then
  return {0}
end
if tonumber(exp) <= now then
  -- Past its time but not yet reaped by Redis: it is gone; the sweeper takes its files.
  redis.call('DEL', drop)
  return {0}
end
local idx = redis.call('HGET', drop, 'h:' .. ARGV[1])
if not idx then
  return {-1}
end
if redis.call('HEXISTS', drop, 'u' .. idx) == 1 then
  return {-2}
end
-- The receipt outlives the drop; never recreate it (it would have no TTL).
local receipt = redis.call('EXISTS', KEYS[2]) == 1
redis.call('HSET', drop, 'u' .. idx, ARGV[2])
if receipt then
  redis.call('HSET', KEYS[2], 'u' .. idx, ARGV[2])
end
local left = redis.call('HINCRBY', drop, 'views_left', -1)
local got = redis.call('HMGET', drop, 'w' .. idx, 'kind', 'ct', 'mime')
local burned = 0
if left <= 0 then
  redis.call('DEL', drop)
  if receipt then
    redis.call('HSET', KEYS[2], 'burned', ARGV[2])
  end
  burned = 1
  if got[2] == 'voice' then
    -- The audio still streams once through its ticket; the sweeper is the backstop.
    -- XX: only move the drop's entry, never create the index without its TTL.
    redis.call('ZADD', KEYS[3], 'XX', now + tonumber(ARGV[4]), ARGV[3])
  end
end
return {1, left, got[1] or '', got[2] or '', got[3] or '', got[4] or '', burned, exp}
