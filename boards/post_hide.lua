-- Hide a post from every feed (moderation); the hash stays until its TTL so
-- operators can still see what was hidden.
-- KEYS: 1 post hash, 2 its topic or room feed, 3 home feed, 4 moderation log
-- ARGV[1]: JSON {id, log (modlog.lua)}
-- Returns 1 if hidden now, 0 if missing or already hidden.
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'hidden') == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'hidden', '1')
redis.call('ZREM', KEYS[2], a.id)
redis.call('ZREM', KEYS[3], a.id)
modlog_add(KEYS[4], a.log)
return 1
