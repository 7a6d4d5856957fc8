-- Shared by post_row.lua and comments_list.lua (prepended when loaded): the names
-- a record's HMGET asks for (its fields, then 'hidden') and where expires_at is
-- among them.
local function record_names(fields)
  local names = {unpack(fields)}
  names[#fields + 1] = 'hidden'
  local expires_at
  for i, name in ipairs(fields) do
    if name == 'expires_at' then
      expires_at = i
    end
  end
  return names, expires_at
end
