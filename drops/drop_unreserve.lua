-- Give a reserved id back (its create was refused or failed): only this request's
-- reservation, never a stored drop (saving removes the field) nor another's.
-- KEYS[1] drop hash; ARGV[1] the reservation token. Returns 1 released, 0 not ours.
if redis.call('HGET', KEYS[1], 'reserved') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
