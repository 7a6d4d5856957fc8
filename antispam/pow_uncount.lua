-- Take one write back out of a write-rate bucket (its solution was refused, or the
-- write failed on the server and its challenge was refunded); never below zero.
-- KEYS[1] the bucket. Returns 1.
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  redis.pcall('DECR', KEYS[1])
end
return 1
