-- Shared: count one moderation action in the public log, in the same script
-- as the action. The log is one sorted set; each entry's score is the moment
-- the content it speaks of has surely expired (now + the longest item life),
-- and entries past it are dropped here, so no count outlives its content.
-- Entry: "YYYY-MM-DD|action|kind|nonce|public reason" (no item id).
-- log: {entry, until, now, ttl} (moderation.log, in the script's JSON argument).
local function modlog_add(key, log)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. log.now)
  redis.call('ZADD', key, log['until'], log.entry)
  redis.call('EXPIRE', key, log.ttl)
end
