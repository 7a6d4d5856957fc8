-- Remove a comment everywhere.
-- KEYS: 1 comment hash, 2 the post's comment zset, 3 the post's hidden set,
--       4 moderation log
-- ARGV: 1 comment id, 2-5 the log entry, until, now, ttl (modlog.lua)
-- Returns 1 if it existed.
local existed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
if existed == 1 then
  modlog_add(KEYS[4], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
end
return existed
