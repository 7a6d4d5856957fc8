-- Bump a topic's trending weight (after a post or comment of the topic is
-- stored; best effort: a lost bump only makes trending a little less exact).
-- KEYS: 1 trending zset, 2 trending epoch, 3 the topic's announce throttle
-- ARGV[1]: JSON {topic, weight, now (s), half_life, ttl, throttle (s)}
-- Returns 1 when this topic may announce a trending change (throttled).
local a = cjson.decode(ARGV[1])
return trending_bump(KEYS[1], KEYS[2], KEYS[3], a.topic, a.weight, a.now, a.half_life,
  a.ttl, a.throttle)
