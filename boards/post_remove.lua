-- Remove a post with all of its comments (hidden ones included), in its slot.
-- The home feed's entry goes in the next step (boards.services.post_remove).
-- KEYS: 1 post hash, 2 its topic or room feed, 3 comment zset,
--       4 hidden-comment set
-- ARGV[1]: JSON {id, comment (key pieces of a comment, item_key)}
-- Returns 1 if something was removed, 0 if the post was already gone.
local a = cjson.decode(ARGV[1])
local existed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], a.id)
local ids = redis.call('ZRANGE', KEYS[3], 0, -1)
for _, id in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  ids[#ids + 1] = id
end
for _, id in ipairs(ids) do
  redis.call('DEL', item_key(a.comment, id))
end
redis.call('DEL', KEYS[3], KEYS[4])
return existed
