-- Shared (prepended to trending_step.lua when loaded).
-- Forward decay: a bump adds weight * 2^((t - epoch) / half_life), so older
-- bumps fade relative to newer ones without ever rescoring. The epoch moves
-- forward every 64 half-lives (rescaling once) so the numbers stay finite.
-- Returns 1 when this topic may announce a trending change (throttled).
local function trending_bump(zkey, epoch_key, throttle_key, topic, weight, now, half_life, ttl, throttle)
  local era = half_life * 64
  local current = now - (now % era)
  local epoch = tonumber(redis.call('GET', epoch_key))
  if not epoch then
    redis.call('DEL', zkey)  -- scores without their epoch mean nothing
    epoch = current
  elseif epoch < current then
    local factor = 2 ^ (-(current - epoch) / half_life)
    local rows = redis.call('ZRANGE', zkey, 0, -1, 'WITHSCORES')
    for i = 1, #rows, 2 do
      local scaled = tonumber(rows[i + 1]) * factor
      if scaled < 1e-6 then
        redis.call('ZREM', zkey, rows[i])
      else
        redis.call('ZADD', zkey, scaled, rows[i])
      end
    end
    epoch = current
  end
  redis.call('SET', epoch_key, epoch, 'EX', ttl)
  redis.call('ZINCRBY', zkey, weight * 2 ^ ((now - epoch) / half_life), topic)
  redis.call('EXPIRE', zkey, ttl)
  if redis.call('SET', throttle_key, '1', 'NX', 'EX', throttle) then
    return 1
  end
  return 0
end
