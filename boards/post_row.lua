-- Shared by feed_page.lua and post_rows.lua (prepended when loaded): one post's
-- row for a feed.

-- What post_row needs, worked out once per call from the script's argument:
-- a.fields (boards.records.POST), a.now (s), a.comment_cutoff (score).
local function post_reader(a)
  local names, expires_at = record_names(a.fields)
  return {names = names, n = #a.fields, expires_at = expires_at, now = a.now,
    comment_cutoff = a.comment_cutoff}
end

-- The post's row (the values of fields, '' when absent, then its live comment
-- count), or 'gone' (no hash, or expired) or 'hidden' (moderation hid it).
local function post_row(r, key, comments_key)
  local f = redis.call('HMGET', key, unpack(r.names))
  if not f[r.expires_at] or tonumber(f[r.expires_at]) <= r.now then
    return 'gone'
  end
  if f[r.n + 1] then
    return 'hidden'
  end
  local row = {}
  for j = 1, r.n do
    row[j] = f[j] or ''
  end
  row[r.n + 1] = redis.call('ZCOUNT', comments_key, r.comment_cutoff, '+inf')
  return row
end
