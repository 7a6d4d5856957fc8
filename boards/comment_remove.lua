-- Remove a comment everywhere.
-- KEYS: 1 comment hash, 2 the post's comment zset, 3 the post's hidden set
-- ARGV: 1 comment id
-- Returns 1 if it existed.
local existed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
return existed
