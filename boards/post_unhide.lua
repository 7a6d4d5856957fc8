-- Show a hidden post again (moderation restore), back in its feeds at its
-- original place.
-- KEYS: 1 post hash, 2 its topic or room feed, 3 home feed (topic posts) or
--       an unused key, 4 moderation log
-- ARGV[1]: JSON {id, kind ("topic" or "room"), log (modlog.lua)}
-- Returns -1 if the post is gone, 0 if it was not hidden, 1 if shown again.
local a = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
if redis.call('HDEL', KEYS[1], 'hidden') == 0 then
  return 0
end
local score = redis.call('HGET', KEYS[1], 'score')
local left = redis.call('PTTL', KEYS[1])
local feeds = {KEYS[2]}
if a.kind == 'topic' then
  feeds[2] = KEYS[3]
end
for _, feed in ipairs(feeds) do
  redis.call('ZADD', feed, score, a.id)
  if redis.call('PTTL', feed) < left then
    redis.call('PEXPIRE', feed, left)
  end
end
modlog_add(KEYS[4], a.log)
return 1
