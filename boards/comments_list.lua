-- A post's live comments, oldest first, pruning expired, hidden or removed ids.
-- KEYS: 1 post hash, 2 the post's comment zset
-- ARGV: 1 comment key prefix, 2 comment cutoff score, 3 now in s, 4 max rows,
--       5 lower bound of the read (the cutoff, or "(score" for a catch-up)
-- Returns false when the post is gone, 'hidden' when moderation hid it, else
-- rows of {id, author, blob, created_at, expires_at, score}.
local post = redis.call('HMGET', KEYS[1], 'expires_at', 'hidden')
local now = tonumber(ARGV[3])
if not post[1] or tonumber(post[1]) <= now then
  return false
end
if post[2] then
  return 'hidden'
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[5], '+inf', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[4]))
local rows = {}
for i = 1, #ids, 2 do
  local id = ids[i]
  local f = redis.call('HMGET', ARGV[1] .. id, 'author', 'blob', 'created_at', 'expires_at', 'hidden')
  if not f[4] or f[5] or tonumber(f[4]) <= now then
    redis.call('ZREM', KEYS[2], id)
  else
    rows[#rows + 1] = {id, f[1], f[2], f[3], f[4], ids[i + 1]}
  end
end
return rows
