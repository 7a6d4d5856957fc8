-- Count one write in the current write-rate bucket (adaptive difficulty). Best effort:
-- a full Redis refuses INCR, and the write goes uncounted.
-- KEYS[1] the bucket; ARGV[1] its TTL (seconds). Returns 1.
redis.pcall('INCR', KEYS[1])
redis.pcall('EXPIRE', KEYS[1], ARGV[1])
return 1
