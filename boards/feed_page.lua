-- Read one page of a feed, newest first, pruning as it goes: entries older
-- than the post TTL, and ids whose post expired, was hidden or was removed.
-- One call per page read (the hot path).
-- KEYS: 1 feed zset
-- ARGV[1]: JSON {fields: the post hash's fields a row gives (boards.records.POST),
--   cutoff (score: older is expired), upper ("+inf" or "(score"), lower (the
--   cutoff, or "(score" for a catch-up: only posts newer than that), limit (page
--   size), prefix (post keys), comments (comment zset suffix), comment_cutoff
--   (score), now (s)}
-- Returns {rows, next_cursor or false}; a row is the values of `fields` ('' when
-- absent), then the live comment count.
local a = cjson.decode(ARGV[1])
local feed = KEYS[1]
local limit = a.limit
local prefix = a.prefix
local now = a.now
redis.call('ZREMRANGEBYSCORE', feed, '-inf', '(' .. a.cutoff)

local fields = a.fields
local n = #fields
local names = {unpack(fields)}
names[n + 1] = 'hidden'
local expires_at
for i, name in ipairs(fields) do
  if name == 'expires_at' then
    expires_at = i
  end
end

local rows = {}
local upper = a.upper
local more = false
local last = false
while #rows < limit and not more do
  local want = limit - #rows + 1
  local batch = redis.call('ZREVRANGEBYSCORE', feed, upper, a.lower, 'WITHSCORES', 'LIMIT', 0, want)
  if #batch == 0 then
    break
  end
  for i = 1, #batch, 2 do
    local id, score = batch[i], batch[i + 1]
    local f = redis.call('HMGET', prefix .. id, unpack(names))
    if not f[expires_at] or f[n + 1] or tonumber(f[expires_at]) <= now then
      redis.call('ZREM', feed, id)
    elseif #rows == limit then
      more = true  -- one live post past the page: there is a next page
      break
    else
      local row = {}
      for j = 1, n do
        row[j] = f[j] or ''
      end
      row[n + 1] = redis.call('ZCOUNT', prefix .. id .. a.comments, a.comment_cutoff, '+inf')
      rows[#rows + 1] = row
      last = score
    end
    upper = '(' .. score
  end
  if #batch < want * 2 then
    break  -- the feed has nothing older
  end
end

local next_cursor = false
if more then
  next_cursor = last
end
return {rows, next_cursor}
