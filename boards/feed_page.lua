-- Read one page of a feed, newest first, pruning as it goes: entries older
-- than the post TTL, and ids whose post expired, was hidden or was removed.
-- One call per page read (the hot path). A topic's or a room's feed shares its
-- posts' slot; the home feed is read this way on a single server only (on a
-- cluster its posts sit in other slots: boards.selectors reads it in steps).
-- KEYS: 1 feed zset
-- ARGV[1]: JSON {fields: the post hash's fields a row gives (boards.records.POST),
--   cutoff (score: older is expired), upper ("+inf" or "(score"), lower (the
--   cutoff, or "(score" for a catch-up: only posts newer than that), limit (page
--   size), post (key pieces, item_key), comments (key pieces), comment_cutoff
--   (score), now (s), settle (home: an entry this new whose post is missing may
--   be a post still being written, so it is skipped, not pruned; false
--   elsewhere), keep_hidden (home: a hidden post's entry is skipped, not pruned,
--   as a restore adds it back before showing the post)}
-- Returns {rows, next_cursor or false}; a row is the values of `fields` ('' when
-- absent), then the live comment count.
local a = cjson.decode(ARGV[1])
local feed = KEYS[1]
local limit = a.limit
local settle = a.settle
local keep_hidden = a.keep_hidden
redis.call('ZREMRANGEBYSCORE', feed, '-inf', '(' .. a.cutoff)

local reader = post_reader(a)
local rows = {}
local upper = a.upper
local more = false
local last = false
-- Until one live post past a full page says there is a next page (a page filled
-- while dead entries were skipped reads one more), or the feed ends.
while not more do
  local want = limit - #rows + 1
  local batch = redis.call('ZREVRANGEBYSCORE', feed, upper, a.lower, 'WITHSCORES', 'LIMIT', 0, want)
  if #batch == 0 then
    break
  end
  for i = 1, #batch, 2 do
    local id, score = batch[i], batch[i + 1]
    local row = post_row(reader, item_key(a.post, id), item_key(a.comments, id))
    if row == 'gone' then
      if not settle or tonumber(score) < settle then
        redis.call('ZREM', feed, id)
      end
    elseif row == 'hidden' then
      if not keep_hidden then
        redis.call('ZREM', feed, id)
      end
    elseif #rows == limit then
      more = true  -- one live post past the page: there is a next page
      break
    else
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
