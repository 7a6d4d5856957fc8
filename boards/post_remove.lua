-- Remove a post everywhere, with all of its comments (hidden ones included).
-- KEYS: 1 post hash, 2 its topic or room feed, 3 home feed, 4 comment zset,
--       5 hidden-comment set, 6 moderation log
-- ARGV[1]: JSON {id, prefix (comment keys), log (modlog.lua)}
-- Returns 1 if something was removed, 0 if the post was already gone.
local a = cjson.decode(ARGV[1])
local existed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], a.id)
redis.call('ZREM', KEYS[3], a.id)
local ids = redis.call('ZRANGE', KEYS[4], 0, -1)
for _, id in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  ids[#ids + 1] = id
end
for _, id in ipairs(ids) do
  redis.call('DEL', a.prefix .. id)
end
redis.call('DEL', KEYS[4], KEYS[5])
if existed == 1 then
  modlog_add(KEYS[6], a.log)
end
return existed
