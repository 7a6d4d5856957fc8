-- Count one moderation action in the public log, as the step right after the
-- action (its own slot: the log is global). The log is one sorted set; each
-- entry's score is the moment the content it speaks of has surely expired (now
-- + the longest item life), and entries past it are dropped here, so no count
-- outlives its content. Entry: "YYYY-MM-DD|action|kind|nonce|public reason"
-- (no item id).
-- KEYS: 1 the log
-- ARGV[1]: JSON {entry, until, now, ttl} (moderation.log)
local log = cjson.decode(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. log.now)
redis.call('ZADD', KEYS[1], log['until'], log.entry)
redis.call('EXPIRE', KEYS[1], log.ttl)
return 1
