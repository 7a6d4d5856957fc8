-- Hide a post from its topic or room feed (moderation), in its slot; the hash
-- stays until its TTL so operators can still see what was hidden. The home
-- feed's entry goes in the next step (boards.services.post_hide).
-- KEYS: 1 post hash, 2 its topic or room feed
-- ARGV[1]: JSON {id}
-- Returns 1 if hidden now, 0 if missing or already hidden.
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'hidden') == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'hidden', '1')
redis.call('ZREM', KEYS[2], a.id)
return 1
