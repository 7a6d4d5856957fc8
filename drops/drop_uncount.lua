-- Take back one wrong key from a drop's counters (the client's own cap refused it,
-- so it was never tried). One slot: the drop's.
-- KEYS[1] wrong keys of this client on this drop, KEYS[2] of anyone on this drop.
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then
    redis.call('DECR', KEYS[i])
  end
end
return 1
