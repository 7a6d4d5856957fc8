-- Store a reserved drop with its receipt: all or nothing, in the drop's slot. Its
-- quota and media index entries are already written (drop_quota_take.lua,
-- drop_media_take.lua): this step is the one that makes the drop visible.
-- KEYS[1] drop hash, KEYS[2] receipt hash
-- ARGV[1] JSON {token (the reservation's), ttl, receipt_ttl, fields (n, the drop's
-- pairs)}; then n name/value pairs for the drop (drops.records), then name/value
-- pairs for the receipt: their values are bytes, which JSON cannot carry.
-- Returns 1 stored, 0 reservation lost.
local a = cjson.decode(ARGV[1])
if redis.call('HGET', KEYS[1], 'reserved') ~= a.token then
  return 0
end
local n = a.fields
local fields, receipt = {}, {}
for i = 2, 1 + 2 * n do
  fields[#fields + 1] = ARGV[i]
end
for i = 2 + 2 * n, #ARGV do
  receipt[#receipt + 1] = ARGV[i]
end
-- A write that Redis refuses (out of memory) fails here, before anything changed.
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HDEL', KEYS[1], 'reserved')
redis.call('EXPIRE', KEYS[1], a.ttl)
redis.call('HSET', KEYS[2], unpack(receipt))
redis.call('EXPIRE', KEYS[2], a.receipt_ttl)
return 1
