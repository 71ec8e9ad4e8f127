-- Read-only: what became of some readings of one vehicle, for a client waiting on readings it sent
-- (the ingest gateway's ?wait=true). apply-readings.lua is the only writer of these keys and owns
-- their layout; this script reads the few parts it needs. A change of layout there must change
-- this too: test/integration/reading-status.test.ts runs both scripts against each other.
--
-- KEYS[1] vehicle hash ('s' hot state, 'p<event ms>' stored rows)  KEYS[2] tiles and entries
-- ARGV pairs: event time (ms, integer text, as in the 'p' field name), fingerprint (u32)
-- Returns per reading: 'stored' and the stored reading (applied, row not durable yet; its values
-- may be another version: the caller compares fingerprints), 'applied' (a dedupe entry with the
-- same fingerprint: applied and durable), 'conflict' (an entry with another fingerprint), 'late'
-- (beyond the allowed lateness of the newest event time, no entry), 'pending' (none of these).

local WIN = { __WINDOWS__ } -- { length ms, tile ms }, as apply-readings.lua
local NW = #WIN
local LAYOUT = 3
local TILE_SIZE = 64
local ENTRY_SIZE = 14

local K_STATE, K_TILES = KEYS[1], KEYS[2]
local state = redis.call('HGET', K_STATE, 's')
-- H[2] newest event time, H[5] entries' base time, H[9] allowed lateness the rings are sized for,
-- H[10] entry capacity, H[11] index of the oldest entry, H[12] entry count.
local H = nil
if state and string.byte(state, 1) == LAYOUT then H = { struct.unpack('<Bddddddddddd', state) } end

local entries_at = 0
if H then
  for w = 1, NW do
    entries_at = entries_at + (math.floor((H[9] + WIN[w][1]) / WIN[w][2]) + 2) * TILE_SIZE
  end
end

-- Entry i (logical, 0-based, sorted by event time): offset from H[5], 16-bit fingerprint.
local function entry(i)
  local o = entries_at + ((H[11] + i) % H[10]) * ENTRY_SIZE
  local offset, fp16 = struct.unpack('<IH', redis.call('GETRANGE', K_TILES, o, o + 5))
  return offset, fp16
end

local out = {}
for i = 1, #ARGV, 2 do
  local t = tonumber(ARGV[i])
  local fp16 = tonumber(ARGV[i + 1]) % 65536
  local stored = redis.call('HGET', K_STATE, 'p' .. ARGV[i])
  if stored then
    out[#out + 1] = 'stored'; out[#out + 1] = stored
  elseif not H then
    out[#out + 1] = 'pending'; out[#out + 1] = ''
  else
    local off = t - H[5]
    local found = nil
    if off >= 0 and H[12] > 0 then
      local lo, hi = 0, H[12]
      while lo < hi do
        local mid = math.floor((lo + hi) / 2)
        if entry(mid) < off then lo = mid + 1 else hi = mid end
      end
      if lo < H[12] then
        local eoff, efp = entry(lo)
        if eoff == off then found = efp end
      end
    end
    local word = 'pending'
    if found then
      if found == fp16 then word = 'applied' else word = 'conflict' end
    elseif t < H[2] - H[9] then
      word = 'late'
    end
    out[#out + 1] = word; out[#out + 1] = ''
  end
end
return out
