-- Remove a comment everywhere.
-- KEYS: 1 comment hash, 2 the post's comment zset, 3 the post's hidden set
-- ARGV[1]: JSON {id}
-- Returns 1 if it existed.
local a = cjson.decode(ARGV[1])
local existed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], a.id)
redis.call('SREM', KEYS[3], a.id)
return existed
