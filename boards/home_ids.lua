-- The home feed on a cluster, one step of a page read (boards.selectors): drop
-- the ids the last step found gone, then give the next ids of the page.
-- KEYS: 1 home feed zset
-- ARGV[1]: JSON {cutoff (score: older is expired), gone (ids to drop), upper,
--   lower (as feed_page.lua), want (how many ids; 0: only drop)}
-- Returns id, score, id, score, ... newest first.
local a = cjson.decode(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. a.cutoff)
if #a.gone > 0 then
  redis.call('ZREM', KEYS[1], unpack(a.gone))
end
if a.want == 0 then
  return {}
end
return redis.call('ZREVRANGEBYSCORE', KEYS[1], a.upper, a.lower, 'WITHSCORES', 'LIMIT', 0, a.want)
