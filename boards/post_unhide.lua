-- Show a hidden post again (moderation restore) in its topic or room feed at
-- its original place, in its slot. A topic post's home-feed entry was put back
-- in the step before (home_add.lua): index before record.
-- KEYS: 1 post hash, 2 its topic or room feed
-- ARGV[1]: JSON {id}
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
redis.call('ZADD', KEYS[2], score, a.id)
if redis.call('PTTL', KEYS[2]) < left then
  redis.call('PEXPIRE', KEYS[2], left)
end
return 1
