-- Consume a proof-of-work challenge atomically and count the write for adaptive difficulty.
-- KEYS[1] challenge key; KEYS[2] the current write-rate bucket.
-- ARGV[1] session id; ARGV[2] leading zeros the nonce achieved; ARGV[3] bucket TTL seconds.
-- Returns 1 accepted, 0 unknown or expired, -1 other session, -2 not enough work.
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
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
