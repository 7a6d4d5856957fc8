-- Read one page of a feed, newest first, pruning as it goes: entries older
-- than the post TTL, and ids whose post expired, was hidden or was removed.
-- One call per page read (the hot path).
-- KEYS: 1 feed zset
-- ARGV: 1 cutoff score (older is expired), 2 upper bound ("+inf" or "(score"),
--       3 page size, 4 post key prefix, 5 comment zset suffix,
--       6 comment cutoff score, 7 now in s, 8 lower bound of the walk (the
--       cutoff, or "(score" for a catch-up: only posts newer than that)
-- Returns {rows, next_cursor or false}; a row is
-- {id, topic, room, author, blob, created_at, expires_at, comment_count, score}.
local feed = KEYS[1]
local cutoff = ARGV[1]
local limit = tonumber(ARGV[3])
local prefix = ARGV[4]
local now = tonumber(ARGV[7])
redis.call('ZREMRANGEBYSCORE', feed, '-inf', '(' .. cutoff)

local rows = {}
local upper = ARGV[2]
local more = false
while #rows < limit and not more do
  local want = limit - #rows + 1
  local batch = redis.call('ZREVRANGEBYSCORE', feed, upper, ARGV[8], 'WITHSCORES', 'LIMIT', 0, want)
  if #batch == 0 then
    break
  end
  for i = 1, #batch, 2 do
    local id, score = batch[i], batch[i + 1]
    local f = redis.call('HMGET', prefix .. id,
      'topic', 'room', 'author', 'blob', 'created_at', 'expires_at', 'hidden')
    if not f[6] or f[7] or tonumber(f[6]) <= now then
      redis.call('ZREM', feed, id)
    elseif #rows == limit then
      more = true  -- one live post past the page: there is a next page
      break
    else
      local comments = redis.call('ZCOUNT', prefix .. id .. ARGV[5], ARGV[6], '+inf')
      rows[#rows + 1] = {id, f[1] or '', f[2] or '', f[3], f[4], f[5], f[6], comments, score}
    end
    upper = '(' .. score
  end
  if #batch < want * 2 then
    break  -- the feed has nothing older
  end
end

local next_cursor = false
if more then
  next_cursor = rows[#rows][9]
end
return {rows, next_cursor}
