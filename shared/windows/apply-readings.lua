-- Applies one vehicle's readings to its tiled windows, dedupe marks and latest vector, atomically.
-- Layouts and semantics: shared/windows/window-state.ts (the TypeScript side of every byte here)
-- and shared/windows/window-spec.ts (windows, tiles, error bounds).
--
-- KEYS[1] vehicle hash, fields:
--   s             hot state (+ the newest reading and its event_id)
--   e             entries: 14 bytes per reading within the allowed lateness of the newest event time
--                 (plus the one before), sorted by event time: the dedupe marks, and the positions
--                 that let an out-of-order reading split the GPS segment it falls into
--   r1..rN        one ring of tiles per window
--   p<event ms>   a reading's stored row until markDurable drops it
-- (One hash, rewritten field by field: APPEND on a string would grow it greedily, up to 2x.)
-- ARGV[1] now (processed_ts, ms)  ARGV[2] allowed lateness (ms)  ARGV[3] idle ttl (s)
-- ARGV[4..] pairs: event_id, packed reading
-- Returns per reading: outcome ('new' | 'dup' | 'conflict' | 'late'), then the row record for
-- 'new', the stored reading for a 'dup' whose row is not durable yet, '' otherwise.
--
-- Sums are kept as integers (speed and temperature in thousandths, distance in mm, positions in
-- 1e-7 degrees), so every arrival order yields the very same bytes once all readings are in.

local WIN = { __WINDOWS__ } -- { length ms, tile ms }, finest first; each tile divides the next
local NW = #WIN
local HEAD_N = 9
local HOT = '<Bdddddddd' .. string.rep('IdddddffffiIdddddffff', NW)
local HOT_N = HEAD_N + 21 * NW
local HOT_SIZE = 65 + 124 * NW
local TILE = '<iIdddddffff'
local TILE_SIZE = 64
local READING = '<dddddddI'
local REC = '<BId' .. string.rep('Ifffffffff', NW)
local ENTRY = '<IHii'
local ENTRY_SIZE = 14
local LAYOUT = 3
local PRUNE_SLACK_MS = 10000
local Q, DQ, PQ = 1000, 1e6, 1e7

local K_STATE = KEYS[1]
local now = tonumber(ARGV[1])
local lateness = tonumber(ARGV[2])
local idle_ttl = tonumber(ARGV[3])

-- Ring sizes cover the allowed lateness plus the window, so an out-of-order reading finds every
-- tile of its windows; span = tiles before the current one in a window.
local n, span, RING_FIELD = {}, {}, {}
for w = 1, NW do
  n[w] = math.floor((lateness + WIN[w][1]) / WIN[w][2]) + 2
  span[w] = WIN[w][1] / WIN[w][2]
  RING_FIELD[w] = 'r' .. w
end
local EMPTY_TILE = struct.pack(TILE, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

-- H: the hot state as numbers. Header: layout, head event time, head lat, head lon (1e-7 deg),
-- entries base time, second entry's time (when pruning is due), ttl refreshed at, head processed time, lateness the rings
-- were sized for. Window w (b = HEAD_N + 21 * (w - 1)): running aggregate of the window at the
-- head H[b+1..b+10] (count, speed sum, speed sum of squares, temp sum, temp sum of squares,
-- distance, speed min, speed max, temp min, temp max) and the head tile H[b+11..b+21] (id, then
-- the same ten).
local H, tail
local state = redis.call('HGET', K_STATE, 's')
local has_head = state ~= false and string.byte(state, 1) == LAYOUT
if not has_head then
  -- New vehicle, or state of an older layout: start over.
  if state then redis.call('DEL', K_STATE) end
  H = { LAYOUT, 0, 0, 0, 0, 0, 0, 0, lateness }
  for w = 1, NW do
    local b = HEAD_N + 21 * (w - 1)
    for j = 1, 21 do H[b + j] = 0 end
    H[b + 11] = -1
  end
else
  H = { struct.unpack(HOT, state) }
  tail = string.sub(state, HOT_SIZE + 1)
end
local resized = H[9] ~= lateness
H[9] = lateness

local rings, ring_patch, ring_dirty = {}, {}, {}

-- A ring stored for another lateness: each tile moves to its slot in the new size.
local function reslot(ring, w)
  local slots = {}
  for k = 0, #ring / TILE_SIZE - 1 do
    local piece = string.sub(ring, 1 + k * TILE_SIZE, (k + 1) * TILE_SIZE)
    local id = struct.unpack('<i', piece)
    if id >= 0 then
      local s = id % n[w]
      local old = slots[s]
      if not old or struct.unpack('<i', old) < id then slots[s] = piece end
    end
  end
  local pieces = {}
  for s = 0, n[w] - 1 do pieces[s + 1] = slots[s] or EMPTY_TILE end
  ring_dirty[w] = true
  return table.concat(pieces)
end

local function load_ring(w)
  if rings[w] then return end
  local ring = has_head and redis.call('HGET', K_STATE, RING_FIELD[w])
  if ring and resized and #ring ~= n[w] * TILE_SIZE then ring = reslot(ring, w) end
  if not ring then ring = string.rep(EMPTY_TILE, n[w]) end
  rings[w] = ring
  ring_patch[w] = {}
end

-- The tile in ring slot k of window w: id, count, ss, sq, ts, tq, d, smin, smax, tmin, tmax.
local function ring_tile(w, k)
  load_ring(w)
  local p = ring_patch[w][k]
  if p then return struct.unpack(TILE, p) end
  return struct.unpack(TILE, rings[w], 1 + k * TILE_SIZE)
end

-- Accumulator of merged tiles: count, ss, sq, ts, tq, d, smin, smax, tmin, tmax.
local A = {}
local function acc_reset()
  for j = 1, 10 do A[j] = 0 end
end
local function acc_add(c, ss, sq, ts, tq, d, smin, smax, tmin, tmax)
  if c == 0 then return end
  if A[1] == 0 then
    A[7], A[8], A[9], A[10] = smin, smax, tmin, tmax
  else
    if smin < A[7] then A[7] = smin end
    if smax > A[8] then A[8] = smax end
    if tmin < A[9] then A[9] = tmin end
    if tmax > A[10] then A[10] = tmax end
  end
  A[1], A[2], A[3], A[4], A[5], A[6] = A[1] + c, A[2] + ss, A[3] + sq, A[4] + ts, A[5] + tq, A[6] + d
end

-- Add the tiles of window w with ids lo..hi (the head tile from H, the others from the ring).
local function acc_tiles(w, lo, hi)
  local b = HEAD_N + 21 * (w - 1) + 10
  local hid = H[b + 1]
  for id = lo, hi do
    if id == hid then
      acc_add(H[b + 2], H[b + 3], H[b + 4], H[b + 5], H[b + 6], H[b + 7], H[b + 8], H[b + 9], H[b + 10], H[b + 11])
    else
      local tid, c, ss, sq, ts, tq, d, smin, smax, tmin, tmax = ring_tile(w, id % n[w])
      if tid == id then acc_add(c, ss, sq, ts, tq, d, smin, smax, tmin, tmax) end
    end
  end
end

-- Add one reading (weight 1) and a distance to the aggregate at H[o+1..o+10].
local function agg_add(o, sq_s, sq_t, sp, tp, dq)
  local c = H[o + 1]
  if c == 0 then
    H[o + 7], H[o + 8], H[o + 9], H[o + 10] = sp, sp, tp, tp
  else
    if sp < H[o + 7] then H[o + 7] = sp end
    if sp > H[o + 8] then H[o + 8] = sp end
    if tp < H[o + 9] then H[o + 9] = tp end
    if tp > H[o + 10] then H[o + 10] = tp end
  end
  H[o + 1] = c + 1
  H[o + 2] = H[o + 2] + sq_s
  H[o + 3] = H[o + 3] + sq_s * sq_s
  H[o + 4] = H[o + 4] + sq_t
  H[o + 5] = H[o + 5] + sq_t * sq_t
  H[o + 6] = H[o + 6] + dq
end

-- Add one reading and a distance to tile id of window w: the head tile, or its ring slot (a slot
-- holding another id holds an expired tile, replaced).
local function tile_add_reading(w, id, qs, qt, sp, tp, dq)
  local b = HEAD_N + 21 * (w - 1) + 10
  if id == H[b + 1] then
    agg_add(b + 1, qs, qt, sp, tp, dq)
    return
  end
  local k = id % n[w]
  local tid, c, ss, sq, ts, tq, d, smin, smax, tmin, tmax = ring_tile(w, k)
  if tid ~= id or c == 0 then
    ring_patch[w][k] = struct.pack(TILE, id, 1, qs, qs * qs, qt, qt * qt, dq, sp, sp, tp, tp)
  else
    if sp < smin then smin = sp end
    if sp > smax then smax = sp end
    if tp < tmin then tmin = tp end
    if tp > tmax then tmax = tp end
    ring_patch[w][k] = struct.pack(TILE, id, c + 1, ss + qs, sq + qs * qs, ts + qt, tq + qt * qt, d + dq, smin, smax, tmin, tmax)
  end
end

-- Add a distance to tile id of window w if that tile is still kept; true if it was.
local function tile_add_distance(w, id, dq)
  local b = HEAD_N + 21 * (w - 1) + 10
  if id == H[b + 1] then
    H[b + 7] = H[b + 7] + dq
    return true
  end
  local k = id % n[w]
  local tid, c, ss, sq, ts, tq, d, smin, smax, tmin, tmax = ring_tile(w, k)
  if tid ~= id or c == 0 then return false end
  ring_patch[w][k] = struct.pack(TILE, id, c, ss, sq, ts, tq, d + dq, smin, smax, tmin, tmax)
  return true
end

-- Window statistics appended to the record values v (layout: window-state.ts windowStats).
local function snapshot(v, c, ss, sq, ts, tq, d, smin, smax, tmin, tmax)
  local o = #v
  if c == 0 then
    for j = 1, 10 do v[o + j] = 0 end
    return
  end
  local sm, tm = ss / c, ts / c
  local sv, tv = sq / c - sm * sm, tq / c - tm * tm
  if sv < 0 then sv = 0 end
  if tv < 0 then tv = 0 end
  v[o + 1], v[o + 2], v[o + 3], v[o + 4], v[o + 5] = c, sm / Q, smin, smax, math.sqrt(sv) / Q
  v[o + 6], v[o + 7], v[o + 8], v[o + 9], v[o + 10] = tm / Q, tmin, tmax, math.sqrt(tv) / Q, d / DQ
end

-- Segment length in mm between two positions in 1e-7 degrees (haversine, mean Earth radius).
local RAD = math.pi / 180 / PQ
local function distance_q(lat1, lon1, lat2, lon2)
  local dlat, dlon = (lat2 - lat1) * RAD, (lon2 - lon1) * RAD
  local a = math.sin(dlat / 2) ^ 2 + math.cos(lat1 * RAD) * math.cos(lat2 * RAD) * math.sin(dlon / 2) ^ 2
  return math.floor(2 * 6371.0088 * math.asin(math.min(1, math.sqrt(a))) * DQ + 0.5)
end

-- Entries: E is the stored string once loaded; appends collects in-order entries not in E yet.
local E, E_dirty = nil, false
local appends = {}
local function load_entries()
  if not E then
    E = (has_head and redis.call('HGET', K_STATE, 'e')) or ''
  end
  if #appends > 0 then
    E = E .. table.concat(appends)
    appends = {}
    E_dirty = true
  end
end
-- Index (0-based) of the first entry whose offset is >= off.
local function lower_bound(off)
  local lo, hi = 0, #E / ENTRY_SIZE
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if struct.unpack('<I', E, 1 + mid * ENTRY_SIZE) < off then lo = mid + 1 else hi = mid end
  end
  return lo
end
local function entry_at(k)
  return struct.unpack(ENTRY, E, 1 + k * ENTRY_SIZE)
end

-- Entries hold event times as offsets from H[5]; move the base when an offset would overflow.
local function rebase(t)
  load_entries()
  local first = t
  if #E > 0 then first = entry_at(0) + H[5] end
  local base = math.min(first, t - lateness) - 1000
  local pieces = {}
  for k = 0, #E / ENTRY_SIZE - 1 do
    local off, fp, lat, lon = entry_at(k)
    pieces[k + 1] = struct.pack(ENTRY, off + H[5] - base, fp, lat, lon)
  end
  E = table.concat(pieces)
  E_dirty = true
  H[5] = base
end

local out = {}
local fields = {}
local changed = false

for i = 4, #ARGV, 2 do
  local eid, arg = ARGV[i], ARGV[i + 1]
  local t, sp, tp, lat, lon, _, _, fp = struct.unpack(READING, arg)
  local fp16 = fp % 65536
  local latq, lonq = math.floor(lat * PQ + 0.5), math.floor(lon * PQ + 0.5)
  local qs, qt = math.floor(sp * Q + 0.5), math.floor(tp * Q + 0.5)
  local head = H[2]
  local pkey = 'p' .. string.format('%.0f', t)

  if has_head and t < head - lateness then
    -- Beyond the dedupe horizon: only a stored, not yet durable row can still recognise it.
    local stored = redis.call('HGET', K_STATE, pkey)
    if stored then
      local _, sfp = struct.unpack('<BI', stored)
      if sfp == fp then
        out[#out + 1] = 'dup'; out[#out + 1] = stored
      else
        out[#out + 1] = 'conflict'; out[#out + 1] = ''
      end
    else
      out[#out + 1] = 'late'; out[#out + 1] = ''
    end
  elseif has_head and t <= head then
    load_entries()
    local k = lower_bound(t - H[5])
    local count = #E / ENTRY_SIZE
    local off, efp = nil, nil
    if k < count then off, efp = entry_at(k) end
    if off == t - H[5] then
      if efp == fp16 then
        out[#out + 1] = 'dup'; out[#out + 1] = redis.call('HGET', K_STATE, pkey) or ''
      else
        out[#out + 1] = 'conflict'; out[#out + 1] = ''
      end
    else
      -- Out of order within the allowed lateness: x falls between p (k - 1, if any) and n (k).
      local nlat, nlon = H[3], H[4]
      if k < count then
        local _off, _fp
        _off, _fp, nlat, nlon = entry_at(k)
      end
      local d_xn = distance_q(latq, lonq, nlat, nlon)
      local p_t, d_delta = nil, 0
      if k > 0 then
        local poff, _, plat, plon = entry_at(k - 1)
        p_t = poff + H[5]
        d_delta = distance_q(plat, plon, latq, lonq) - distance_q(plat, plon, nlat, nlon)
      end
      local v = { 1, fp, now }
      for w = 1, NW do
        local T = WIN[w][2]
        local b = HEAD_N + 21 * (w - 1)
        local hid = H[b + 11]
        local tid = math.floor(t / T)
        tile_add_reading(w, tid, qs, qt, sp, tp, d_xn)
        if tid >= hid - span[w] then agg_add(b, qs, qt, sp, tp, d_xn) end
        if p_t then
          local ptid = math.floor(p_t / T)
          if tile_add_distance(w, ptid, d_delta) and ptid >= hid - span[w] then H[b + 6] = H[b + 6] + d_delta end
        end
      end
      -- The row: whole tiles of each window before t's tile, then t's tile composed from the finer
      -- windows' tiles up to t's finest tile (so readings after t count only within that tile).
      for w = 1, NW do
        local tid = math.floor(t / WIN[w][2])
        acc_reset()
        acc_tiles(w, tid - span[w], tid - 1)
        local lo_ms = tid * WIN[w][2]
        for f = w - 1, 1, -1 do
          local Tf = WIN[f][2]
          acc_tiles(f, lo_ms / Tf, math.floor(t / Tf) - 1)
          lo_ms = math.floor(t / Tf) * Tf
        end
        acc_tiles(1, lo_ms / WIN[1][2], math.floor(t / WIN[1][2]))
        snapshot(v, A[1], A[2], A[3], A[4], A[5], A[6], A[7], A[8], A[9], A[10])
      end
      local rec = struct.pack(REC, unpack(v))
      E = string.sub(E, 1, k * ENTRY_SIZE) .. struct.pack(ENTRY, t - H[5], fp16, latq, lonq) .. string.sub(E, k * ENTRY_SIZE + 1)
      E_dirty = true
      if k <= 1 and t < H[6] then H[6] = t end
      fields[#fields + 1] = pkey; fields[#fields + 1] = rec .. arg .. eid
      changed = true
      out[#out + 1] = 'new'; out[#out + 1] = rec
    end
  else
    -- In order (or the vehicle's first reading): the segment from the head starts in the head's tile.
    local dq = 0
    if has_head then
      dq = distance_q(H[3], H[4], latq, lonq)
    else
      H[5] = t - lateness - 1000
      H[6] = t
    end
    if t - H[5] >= 4294967295 then rebase(t) end
    local v = { 0, fp, now }
    for w = 1, NW do
      local T = WIN[w][2]
      local b = HEAD_N + 21 * (w - 1)
      local hid = H[b + 11]
      local tid = math.floor(t / T)
      if has_head then
        H[b + 17] = H[b + 17] + dq
        H[b + 6] = H[b + 6] + dq
      end
      if not has_head or tid > hid then
        -- The window moves to a new head tile: the old one goes to its ring slot.
        if has_head then
          load_ring(w)
          ring_patch[w][hid % n[w]] = struct.pack(TILE, unpack(H, b + 11, b + 21))
        end
        H[b + 11], H[b + 12], H[b + 13], H[b + 14], H[b + 15], H[b + 16] = tid, 1, qs, qs * qs, qt, qt * qt
        H[b + 17], H[b + 18], H[b + 19], H[b + 20], H[b + 21] = 0, sp, sp, tp, tp
        acc_reset()
        acc_tiles(w, tid - span[w], tid)
        for j = 1, 10 do H[b + j] = A[j] end
      else
        agg_add(b + 11, qs, qt, sp, tp, 0)
        agg_add(b, qs, qt, sp, tp, 0)
      end
      snapshot(v, H[b + 1], H[b + 2], H[b + 3], H[b + 4], H[b + 5], H[b + 6], H[b + 7], H[b + 8], H[b + 9], H[b + 10])
    end
    local rec = struct.pack(REC, unpack(v))
    local entry = struct.pack(ENTRY, t - H[5], fp16, latq, lonq)
    if E then
      E = E .. entry
      E_dirty = true
    else
      appends[#appends + 1] = entry
    end
    H[2], H[3], H[4], H[8] = t, latq, lonq, now
    tail = arg .. eid
    has_head = true
    fields[#fields + 1] = pkey; fields[#fields + 1] = rec .. arg .. eid
    changed = true
    out[#out + 1] = 'new'; out[#out + 1] = rec
  end
end

if changed then
  -- Forget entries older than the dedupe horizon (keeping the one before it: the predecessor of
  -- any reading still accepted), once ten seconds of event time have piled up.
  if H[6] < H[2] - lateness - PRUNE_SLACK_MS then
    load_entries()
    local k = lower_bound(H[2] - lateness - H[5])
    if k > 1 then
      E = string.sub(E, (k - 1) * ENTRY_SIZE + 1)
      E_dirty = true
    end
    -- H[6]: the second entry's time; once it is ten seconds behind the horizon there is work here.
    if #E >= 2 * ENTRY_SIZE then H[6] = struct.unpack('<I', E, 1 + ENTRY_SIZE) + H[5] else H[6] = H[2] end
  end
  if #appends > 0 then load_entries() end
  if E_dirty then
    fields[#fields + 1] = 'e'
    fields[#fields + 1] = E
  end
  local refresh_ttl = now - H[7] > idle_ttl * 125
  if refresh_ttl then H[7] = now end
  fields[#fields + 1] = 's'
  fields[#fields + 1] = struct.pack(HOT, unpack(H, 1, HOT_N)) .. tail
  for w = 1, NW do
    local patches = ring_patch[w]
    if ring_dirty[w] or (patches and next(patches)) then
      local offs = {}
      for k in pairs(patches) do offs[#offs + 1] = k end
      table.sort(offs)
      local ring, pieces, pos = rings[w], {}, 1
      for _, k in ipairs(offs) do
        local o = 1 + k * TILE_SIZE
        if o > pos then pieces[#pieces + 1] = string.sub(ring, pos, o - 1) end
        pieces[#pieces + 1] = patches[k]
        pos = o + TILE_SIZE
      end
      if pos <= #ring then pieces[#pieces + 1] = string.sub(ring, pos) end
      fields[#fields + 1] = RING_FIELD[w]
      fields[#fields + 1] = table.concat(pieces)
    end
  end
  redis.call('HSET', K_STATE, unpack(fields))
  -- Refreshed every eighth of the idle ttl, not on every call: an EXPIRE costs as much as a write.
  if refresh_ttl then redis.call('EXPIRE', K_STATE, idle_ttl) end
end
return out
