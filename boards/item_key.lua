-- Shared (prepended when loaded): the key of an item from its format's pieces
-- (boards.keys.lua_parts). An item id's first 4 hex digits are its slot tag, so
-- the key is in the slot of the feed the id was made for.
local function item_key(parts, id)
  return parts[1] .. string.sub(id, 1, 4) .. parts[2] .. id .. parts[3]
end
