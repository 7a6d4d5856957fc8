-- Index a new drop's files for the sweeper and count their bytes, under the media cap.
-- One slot: the media index's. Written before the drop itself, so a drop is never
-- visible without its index entry; an entry whose drop never came is swept when due.
-- KEYS[1] expiry index (zset id -> when its files may go), KEYS[2] media byte count
-- ARGV[1] JSON {id, expires_at, file_bytes (all new files), voice (1 for a voice drop,
-- which the cap applies to), media_cap, index_ttl}.
-- Returns 1 indexed and counted, 0 the id's files still wait for the sweeper (taken:
-- nothing changed), -3 the media cap is reached.
local a = cjson.decode(ARGV[1])
if redis.call('ZSCORE', KEYS[1], a.id) then
  return 0
end
if a.voice == 1 and tonumber(redis.call('GET', KEYS[2]) or '0') + a.file_bytes > a.media_cap then
  return -3
end
-- A write that Redis refuses (out of memory) fails here, before anything changed.
redis.call('ZADD', KEYS[1], a.expires_at, a.id)
redis.call('EXPIRE', KEYS[1], a.index_ttl)
redis.call('INCRBY', KEYS[2], a.file_bytes)
redis.call('EXPIRE', KEYS[2], a.index_ttl)
return 1
