-- Consume a proof-of-work challenge atomically and count the write for adaptive difficulty.
-- KEYS[1] challenge key; KEYS[2] the current write-rate bucket; KEYS[3] the spent key.
-- ARGV[1] session id; ARGV[2] leading zeros the nonce achieved; ARGV[3] bucket TTL seconds.
-- Returns 1 accepted, 0 unknown or expired, -1 other session, -2 not enough work.
-- The challenge is renamed to KEYS[3] (its TTL kept), not deleted: a write that then
-- fails on the server renames it back (pow_refund.lua). RENAME needs no memory, so
-- both run when Redis is full; the counter is best effort (INCR is refused then).
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
redis.call('RENAME', KEYS[1], KEYS[3])
redis.pcall('INCR', KEYS[2])
redis.pcall('EXPIRE', KEYS[2], ARGV[3])
return 1
