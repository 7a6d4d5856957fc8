-- Consume a proof-of-work challenge atomically (one slot: the challenge's).
-- KEYS[1] challenge key; KEYS[2] its spent key.
-- ARGV[1] session id; ARGV[2] leading zeros the nonce achieved.
-- Returns 1 accepted, 0 unknown or expired, -1 other session, -2 not enough work.
-- The challenge is renamed to KEYS[2] (its TTL kept), not deleted: a write that then
-- fails on the server renames it back (pow_refund.lua). RENAME needs no memory, so
-- both run when Redis is full. The write is counted for adaptive difficulty by
-- pow_count.lua, in the same round trip.
local stored = redis.call('GET', KEYS[1])
if not stored then
  return 0
end
local sep = string.find(stored, '|', 1, true)
local sid = string.sub(stored, 1, sep - 1)
local difficulty = tonumber(string.sub(stored, sep + 1))
if sid ~= ARGV[1] then
  return -1
end
if tonumber(ARGV[2]) < difficulty then
  return -2
end
redis.call('RENAME', KEYS[1], KEYS[2])
return 1
