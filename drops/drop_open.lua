-- Open a drop with one key's verifier: check, mark used, count the view, burn on the last,
-- and for a voice drop issue its single-use audio ticket, all in one step in the drop's
-- slot (so exactly max_views opens succeed, however many race). Only a wrong verifier
-- is counted and throttled: a right one always opens. The client's count across drops
-- (another slot) is the caller's next step after a wrong key (fails_client.lua), and
-- after a burn so are the network's quota and the media index (idempotent follow-ups).
-- KEYS[1] drop hash, KEYS[2] receipt hash, KEYS[3] wrong keys of this client on this
-- drop, KEYS[4] of anyone on this drop, KEYS[5] the audio ticket (hash) this open may issue
-- ARGV[1] JSON {verifier (its HMAC), now, id, ticket_ttl (seconds an audio ticket
-- lives), limits (wrong keys allowed for KEYS[3], [4]), window (their seconds),
-- ticket_mode ('raw': ciphertext; 'plain': the server decrypts)};
-- ARGV[2] the ticket's sealed wrapping key ('plain' only; bytes, which JSON cannot carry)
-- Returns {0} gone, {-1} wrong (counted), {-2} used, {-3, seconds to wait} throttled, or
-- {1, views_left, wrapped data key, kind, ciphertext (text), mime, burned (0/1), expires at,
--  salt, iterations, sealed by, network quota id}.
local drop = KEYS[1]
local a = cjson.decode(ARGV[1])
local now = a.now
local exp = redis.call('HGET', drop, 'exp')
if not exp then
  return {0}
end
if tonumber(exp) <= now then
  -- Past its time but not yet reaped by Redis: it is gone; the sweeper takes its files.
  redis.call('DEL', drop)
  return {0}
end
local idx = redis.call('HGET', drop, 'h:' .. a.verifier)
if not idx then
  local wait = 0
  for i = 3, 4 do
    if tonumber(redis.call('GET', KEYS[i]) or '0') >= a.limits[i - 2] then
      wait = math.max(wait, redis.call('TTL', KEYS[i]))
    end
  end
  if wait ~= 0 then
    return {-3, wait > 0 and wait or a.window}
  end
  for i = 3, 4 do
    if redis.call('INCR', KEYS[i]) == 1 then
      redis.call('EXPIRE', KEYS[i], a.window)
    end
  end
  return {-1}
end
if redis.call('HEXISTS', drop, 'u' .. idx) == 1 then
  return {-2}
end
-- A write that Redis refuses (out of memory) fails here, before anything changed.
redis.call('HSET', drop, 'u' .. idx, now)
-- The receipt outlives the drop; never recreate it (it would have no TTL).
local receipt = redis.call('EXISTS', KEYS[2]) == 1
if receipt then
  redis.call('HSET', KEYS[2], 'u' .. idx, now)
end
local left = redis.call('HINCRBY', drop, 'views_left', -1)
local got = redis.call('HMGET', drop, 'w' .. idx, 'kind', 'ct', 'mime', 'salt', 'it', 'by', 'q')
local burned = 0
if got[2] == 'voice' then
  redis.call('HSET', KEYS[5], 'drop', a.id, 'w', got[1], 'mime', got[4] or '',
    'mode', a.ticket_mode, 'wk', ARGV[2], 'last', left <= 0 and '1' or '0')
  redis.call('EXPIRE', KEYS[5], a.ticket_ttl)
end
if left <= 0 then
  redis.call('DEL', drop)
  if receipt then
    redis.call('HSET', KEYS[2], 'burned', now)
  end
  burned = 1
end
return {1, left, got[1] or '', got[2] or '', got[3] or '', got[4] or '', burned, exp,
  got[5] or '', got[6] or '0', got[7] or 'server', got[8] or ''}
