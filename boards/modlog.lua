-- Shared: count one moderation action in the public log, in the same script
-- as the action. The log is one sorted set; each entry's score is the moment
-- the content it speaks of has surely expired (now + the longest item life),
-- and entries past it are dropped here, so no count outlives its content.
-- Entry: "YYYY-MM-DD|action|kind|nonce|public reason" (no item id).
local function modlog_add(key, entry, until_s, now_s, ttl)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. now_s)
  redis.call('ZADD', key, until_s, entry)
  redis.call('EXPIRE', key, ttl)
end
