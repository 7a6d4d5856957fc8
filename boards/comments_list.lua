-- A post's live comments, oldest first, pruning expired, hidden or removed ids.
-- KEYS: 1 post hash, 2 the post's comment zset
-- ARGV[1]: JSON {fields: the comment hash's fields a row gives
--   (boards.records.COMMENT), comment (key pieces, item_key), cutoff (comment score),
--   now (s), limit (rows), lower (the cutoff, or "(score" for a catch-up)}
-- Returns false when the post is gone, 'hidden' when moderation hid it, else
-- rows of the values of `fields` ('' when absent).
local a = cjson.decode(ARGV[1])
local post = redis.call('HMGET', KEYS[1], 'expires_at', 'hidden')
local now = a.now
if not post[1] or tonumber(post[1]) <= now then
  return false
end
if post[2] then
  return 'hidden'
end
local fields = a.fields
local n = #fields
local names, expires_at = record_names(fields)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. a.cutoff)
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], a.lower, '+inf', 'LIMIT', 0, a.limit)
local rows = {}
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', item_key(a.comment, id), unpack(names))
  if not f[expires_at] or f[n + 1] or tonumber(f[expires_at]) <= now then
    redis.call('ZREM', KEYS[2], id)
  else
    local row = {}
    for j = 1, n do
      row[j] = f[j] or ''
    end
    rows[#rows + 1] = row
  end
end
return rows
