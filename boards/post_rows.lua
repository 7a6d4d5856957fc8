-- The rows of some posts of one slot (the home feed on a cluster reads its page
-- this way, one call per slot tag; boards.selectors).
-- KEYS: the posts' hashes, then their comment zsets, in the same order
-- ARGV[1]: JSON {fields (boards.records.POST), now (s), comment_cutoff (score)}
-- Returns one entry per post: its row (as feed_page.lua gives it), 'gone' or
-- 'hidden'.
local a = cjson.decode(ARGV[1])
local reader = post_reader(a)
local n = #KEYS / 2
local found = {}
for i = 1, n do
  found[i] = post_row(reader, KEYS[i], KEYS[n + i])
end
return found
