-- django-ratelimit's add-then-incr on its one bucket key, atomically, in one call
-- (one key: any slot of a Redis Cluster). KEYS[1] the bucket, ARGV[1] its expiry
-- in seconds. Returns the count, which starts at 1 either way.
redis.call("SET", KEYS[1], 0, "NX", "EX", ARGV[1])
return redis.call("INCR", KEYS[1])
