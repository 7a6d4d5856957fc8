-- Put a topic post's id on the home feed (the first step of a post create, and
-- of a restore): idempotent, so a retry changes nothing. A new post gets its
-- unique, time-ordered score here (ms * 1000 + a per-ms sequence, built as a
-- string so no float formatting can round it) and its topic feed takes the same.
-- KEYS: 1 home feed zset, 2 its score sequence
-- ARGV[1]: JSON {id, score (a restore: the post's own) or now_ms (a new post),
--   cutoff (score: older entries are expired), ttl (s: the feed lives as long as
--   its newest post)}
-- Returns the score.
local a = cjson.decode(ARGV[1])
local score = a.score
if not score then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], a.ttl)
  score = a.now_ms .. string.format('%03d', seq % 1000)
end
redis.call('ZADD', KEYS[1], score, a.id)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. a.cutoff)
if redis.call('TTL', KEYS[1]) < a.ttl then
  redis.call('EXPIRE', KEYS[1], a.ttl)
end
return score
