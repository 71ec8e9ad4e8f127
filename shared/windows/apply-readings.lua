-- Applies one vehicle's readings to its tiled windows, dedupe marks and latest vector, atomically.
-- Layouts and semantics: shared/windows/window-snapshot.ts (the TypeScript side of every byte here)
-- and shared/windows/window-spec.ts (windows, tiles, error bounds).
--
-- KEYS[1] vehicle hash: 's' hot state (+ the newest reading and its event_id), 'p<event ms>' a
--         reading's stored row until markDurable drops it
-- KEYS[2] vehicle tiles and entries, one string of fixed layout read and written in place with
--         GETRANGE/SETRANGE (large strings through Lua cost ~1.5 us per KB each way):
--           per window a ring of tiles, then a ring buffer of entries: 14 bytes per reading within
--           the allowed lateness of the newest event time (plus the one before), sorted by event
--           time: the dedupe marks, and the positions that let an out-of-order reading split the
--           GPS segment it falls into
-- ARGV[1] now (processed_ts, ms)  ARGV[2] allowed lateness (ms)  ARGV[3] idle ttl (s)
-- ARGV[4] the model version that scores this call's rows ('' for none): kept with the stored rows,
--         so a retry scores the very same row with the very same model
-- ARGV[5..] pairs: event_id, packed reading
-- Returns per reading: outcome ('new' | 'dup' | 'conflict' | 'late'), then the row record for
-- 'new', the stored reading (record, reading, model version, event_id) for a 'dup' whose row is
-- not durable yet, '' otherwise.
--
-- Sums are kept as integers (speed and temperature in thousandths, distance in mm, positions in
-- 1e-7 degrees), so every arrival order yields the very same bytes once all readings are in.

local WIN = { __WINDOWS__ } -- { length ms, tile ms }, finest first; each tile divides the next
local NW = #WIN
local HEAD_N = 12
local HOT = '<Bddddddddddd' .. string.rep('IdddddffffiIdddddffff', NW)
local HOT_N = HEAD_N + 21 * NW
local HOT_SIZE = 89 + 124 * NW
local TILE = '<iIdddddffff'
local TILE_SIZE = 64
local READING = '<dddddddI'
local REC = '<BId' .. string.rep('Ifffffffff', NW)
local ENTRY = '<IHii'
local ENTRY_SIZE = 14
local LAYOUT = 3
local PRUNE_SLACK_MS = 10000
local Q, DQ, PQ = 1000, 1e6, 1e7

local K_STATE, K_TILES = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local lateness = tonumber(ARGV[2])
local idle_ttl = tonumber(ARGV[3])
local scored_with = struct.pack('<B', #ARGV[4]) .. ARGV[4]

-- Ring sizes cover the allowed lateness plus the window, so an out-of-order reading finds every
-- tile of its windows; span = tiles before the current one in a window.
local function ring_sizes(l)
  local sizes, offsets, total = {}, {}, 0
  for w = 1, NW do
    sizes[w] = math.floor((l + WIN[w][1]) / WIN[w][2]) + 2
    offsets[w] = total
    total = total + sizes[w] * TILE_SIZE
  end
  return sizes, offsets, total
end
local n, ring_off, rings_size = ring_sizes(lateness)
local span = {}
for w = 1, NW do span[w] = WIN[w][1] / WIN[w][2] end
local EMPTY_TILE = struct.pack(TILE, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

-- H: the hot state as numbers. Header: layout, head event time, head lat, head lon (1e-7 deg),
-- entries base time, second entry's time (pruning is due once it falls behind the horizon), ttl
-- refreshed at, head processed time, lateness the rings were sized for, entry capacity, index of
-- the oldest entry in the ring buffer, entry count. Window w (b = HEAD_N + 21 * (w - 1)): running
-- aggregate of the window at the head H[b+1..b+10] (count, speed sum, speed sum of squares, temp
-- sum, temp sum of squares, distance, speed min, speed max, temp min, temp max) and the head tile
-- H[b+11..b+21] (id, then the same ten).
local H, tail
local state = redis.call('HGET', K_STATE, 's')
local has_head = state ~= false and string.byte(state, 1) == LAYOUT
-- The two keys expire together, but an eviction policy may take one: then start over too.
if has_head and redis.call('EXISTS', K_TILES) == 0 then has_head = false end
if not has_head then
  -- New vehicle, state of an older layout, or tiles lost: start over.
  if state then redis.call('DEL', K_STATE) end
  H = { LAYOUT, 0, 0, 0, 0, 0, 0, 0, lateness, 64, 0, 0 }
  for w = 1, NW do
    local b = HEAD_N + 21 * (w - 1)
    for j = 1, 21 do H[b + j] = 0 end
    H[b + 11] = -1
  end
  redis.call('SET', K_TILES, string.rep(EMPTY_TILE, rings_size / TILE_SIZE) .. string.rep('\0', H[10] * ENTRY_SIZE))
else
  H = { struct.unpack(HOT, state) }
  tail = string.sub(state, HOT_SIZE + 1)
end

-- Entries: a ring buffer of H[10] slots after the rings; logical index i is slot (H[11] + i) % H[10].
local function entries_read(i, j)
  if j <= i then return '' end
  local cap = H[10]
  local a, b = (H[11] + i) % cap, (H[11] + j - 1) % cap
  local base = rings_size
  if a <= b then return redis.call('GETRANGE', K_TILES, base + a * ENTRY_SIZE, base + (b + 1) * ENTRY_SIZE - 1) end
  return redis.call('GETRANGE', K_TILES, base + a * ENTRY_SIZE, base + cap * ENTRY_SIZE - 1)
    .. redis.call('GETRANGE', K_TILES, base, base + (b + 1) * ENTRY_SIZE - 1)
end
local function entries_write(i, bytes)
  local cap = H[10]
  local count = #bytes / ENTRY_SIZE
  local a = (H[11] + i) % cap
  local first = math.min(count, cap - a)
  redis.call('SETRANGE', K_TILES, rings_size + a * ENTRY_SIZE, string.sub(bytes, 1, first * ENTRY_SIZE))
  if first < count then redis.call('SETRANGE', K_TILES, rings_size, string.sub(bytes, first * ENTRY_SIZE + 1)) end
end

-- Rewrites the tiles string: rings for the current lateness (moving each kept tile to its slot),
-- entries linearised into `cap` slots. Rare: the lateness changed or the entries outgrew their room.
local function rebuild(cap, old_lateness)
  local old = redis.call('GET', K_TILES) or ''
  local old_n, old_off, old_size = ring_sizes(old_lateness)
  local pieces = {}
  for w = 1, NW do
    local slots = {}
    for k = 0, old_n[w] - 1 do
      local o = old_off[w] + k * TILE_SIZE
      local piece = string.sub(old, o + 1, o + TILE_SIZE)
      if #piece == TILE_SIZE then
        local id = struct.unpack('<i', piece)
        if id >= 0 then
          local slot = id % n[w]
          if not slots[slot] or struct.unpack('<i', slots[slot]) < id then slots[slot] = piece end
        end
      end
    end
    for k = 0, n[w] - 1 do pieces[#pieces + 1] = slots[k] or EMPTY_TILE end
  end
  local old_cap = H[10]
  for i = 0, H[12] - 1 do
    local o = old_size + ((H[11] + i) % old_cap) * ENTRY_SIZE
    pieces[#pieces + 1] = string.sub(old, o + 1, o + ENTRY_SIZE)
  end
  pieces[#pieces + 1] = string.rep('\0', (cap - H[12]) * ENTRY_SIZE)
  redis.call('SET', K_TILES, table.concat(pieces), 'KEEPTTL')
  H[10], H[11] = cap, 0
end
if has_head and H[9] ~= lateness then rebuild(H[10], H[9]) end
H[9] = lateness

local function ensure_room()
  if H[12] < H[10] then return end
  -- Grows by a quarter: a string sized to the need, not doubled (SETRANGE past the end would be).
  rebuild(math.floor(H[10] * 1.25) + 16, lateness)
end

-- Tiles are read in contiguous runs into `tiles` (slot -> packed tile) and written back if dirty.
local tiles, dirty = {}, {}
for w = 1, NW do tiles[w], dirty[w] = {}, {} end
local function fetch_slots(w, a, b) -- slots a..b (a <= b), those not read yet
  local cache = tiles[w]
  while a <= b and cache[a] do a = a + 1 end
  while b >= a and cache[b] do b = b - 1 end
  if a > b then return end
  local o = ring_off[w]
  local run = redis.call('GETRANGE', K_TILES, o + a * TILE_SIZE, o + (b + 1) * TILE_SIZE - 1)
  for k = a, b do
    if not cache[k] then cache[k] = string.sub(run, (k - a) * TILE_SIZE + 1, (k - a + 1) * TILE_SIZE) end
  end
end
local function fetch_ids(w, lo, hi) -- the ring slots of tile ids lo..hi
  if hi < lo then return end
  if hi - lo + 1 >= n[w] then
    fetch_slots(w, 0, n[w] - 1)
    return
  end
  local a, b = lo % n[w], hi % n[w]
  if a <= b then
    fetch_slots(w, a, b)
  else
    fetch_slots(w, a, n[w] - 1)
    fetch_slots(w, 0, b)
  end
end
-- The tile in ring slot k of window w: id, count, ss, sq, ts, tq, d, smin, smax, tmin, tmax.
local function ring_tile(w, k)
  if not tiles[w][k] then fetch_slots(w, k, k) end
  return struct.unpack(TILE, tiles[w][k])
end
local function put_tile(w, k, packed)
  tiles[w][k] = packed
  dirty[w][k] = true
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
  fetch_ids(w, lo, math.min(hi, hid - 1))
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
    put_tile(w, k, struct.pack(TILE, id, 1, qs, qs * qs, qt, qt * qt, dq, sp, sp, tp, tp))
  else
    if sp < smin then smin = sp end
    if sp > smax then smax = sp end
    if tp < tmin then tmin = tp end
    if tp > tmax then tmax = tp end
    put_tile(w, k, struct.pack(TILE, id, c + 1, ss + qs, sq + qs * qs, ts + qt, tq + qt * qt, d + dq, smin, smax, tmin, tmax))
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
  put_tile(w, k, struct.pack(TILE, id, c, ss, sq, ts, tq, d + dq, smin, smax, tmin, tmax))
  return true
end

-- Window statistics appended to the record values v (window-snapshot.ts decodes the same way).
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

-- Entries near the head: logical indexes [W0, H[12]) are in the string W (read back from the end,
-- where out-of-order readings and re-sends usually land).
local W, W0 = nil, nil
local function window_from(i)
  if W and W0 <= i then return end
  local from = math.max(0, i)
  if W then
    W = entries_read(from, W0) .. W
  else
    W = entries_read(from, H[12])
  end
  W0 = from
end
local function entry_at(i) -- logical index, within the read window
  return struct.unpack(ENTRY, W, 1 + (i - W0) * ENTRY_SIZE)
end
-- Logical index of the first entry whose offset is >= off (reading further back as needed).
local function lower_bound(off)
  local count = H[12]
  local back = 32
  window_from(count - back)
  while W0 > 0 and struct.unpack('<I', W, 1) >= off do
    back = back * 4
    window_from(count - back)
  end
  local lo, hi = W0, count
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if struct.unpack('<I', W, 1 + (mid - W0) * ENTRY_SIZE) < off then lo = mid + 1 else hi = mid end
  end
  return lo
end
local function forget_window() W, W0 = nil, nil end

-- Entries hold event times as offsets from H[5]; when a reading's offset would overflow (event
-- time jumped ~49 days ahead), move the base just before its dedupe horizon and drop the entries
-- older than that: they are in no window any more.
local function rebase(t)
  window_from(0)
  local base = t - lateness - 1000
  local pieces = {}
  for i = 0, H[12] - 1 do
    local off, fp, lat, lon = entry_at(i)
    if off + H[5] >= base then pieces[#pieces + 1] = struct.pack(ENTRY, off + H[5] - base, fp, lat, lon) end
  end
  if #pieces > 0 then entries_write(0, table.concat(pieces)) end
  forget_window()
  H[5], H[12] = base, #pieces
  H[6] = t
end

local out = {}
local fields = {}
local changed = false
-- Stored rows written by this call (pkey -> stored reading): a re-send later in the same call is
-- recognised from here, as HGET does not see them yet.
local written = {}

for i = 5, #ARGV, 2 do
  local eid, arg = ARGV[i], ARGV[i + 1]
  local t, sp, tp, lat, lon, _, _, fp = struct.unpack(READING, arg)
  local fp16 = fp % 65536
  local latq, lonq = math.floor(lat * PQ + 0.5), math.floor(lon * PQ + 0.5)
  local qs, qt = math.floor(sp * Q + 0.5), math.floor(tp * Q + 0.5)
  local head = H[2]
  local pkey = 'p' .. string.format('%.0f', t)

  if has_head and t < head - lateness then
    -- Beyond the dedupe horizon: only a stored, not yet durable row can still recognise it.
    local stored = written[pkey] or redis.call('HGET', K_STATE, pkey)
    if stored then
      local _, sfp = struct.unpack('<BI', stored)
      if sfp == fp then
        out[#out + 1] = 'dup'
        if written[pkey] then out[#out + 1] = '' else out[#out + 1] = stored end
      else
        out[#out + 1] = 'conflict'; out[#out + 1] = ''
      end
    else
      out[#out + 1] = 'late'; out[#out + 1] = ''
    end
  elseif has_head and t <= head then
    local k = lower_bound(t - H[5])
    local count = H[12]
    local off, efp = nil, nil
    if k < count then off, efp = entry_at(k) end
    if off == t - H[5] then
      if efp == fp16 then
        out[#out + 1] = 'dup'
        if written[pkey] then out[#out + 1] = '' else out[#out + 1] = redis.call('HGET', K_STATE, pkey) or '' end
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
        window_from(k - 1)
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
      -- Insert the entry at k: the entries from k on move one slot up.
      if H[12] >= H[10] then
        ensure_room()
        forget_window()
      end
      window_from(k)
      entries_write(k, struct.pack(ENTRY, t - H[5], fp16, latq, lonq) .. string.sub(W, (k - W0) * ENTRY_SIZE + 1))
      H[12] = H[12] + 1
      forget_window()
      if k <= 1 and t < H[6] then H[6] = t end
      written[pkey] = rec .. arg .. scored_with .. eid
      fields[#fields + 1] = pkey; fields[#fields + 1] = written[pkey]
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
        if has_head then put_tile(w, hid % n[w], struct.pack(TILE, unpack(H, b + 11, b + 21))) end
        H[b + 11], H[b + 12], H[b + 13], H[b + 14], H[b + 15], H[b + 16] = tid, 1, qs, qs * qs, qt, qt * qt
        H[b + 17], H[b + 18], H[b + 19], H[b + 20], H[b + 21] = 0, sp, sp, tp, tp
        acc_reset()
        if has_head then acc_tiles(w, tid - span[w], tid) else acc_tiles(w, tid, tid) end
        for j = 1, 10 do H[b + j] = A[j] end
      else
        agg_add(b + 11, qs, qt, sp, tp, 0)
        agg_add(b, qs, qt, sp, tp, 0)
      end
      snapshot(v, H[b + 1], H[b + 2], H[b + 3], H[b + 4], H[b + 5], H[b + 6], H[b + 7], H[b + 8], H[b + 9], H[b + 10])
    end
    local rec = struct.pack(REC, unpack(v))
    if H[12] >= H[10] then
      ensure_room()
      forget_window()
    end
    entries_write(H[12], struct.pack(ENTRY, t - H[5], fp16, latq, lonq))
    H[12] = H[12] + 1
    if W then forget_window() end
    H[2], H[3], H[4], H[8] = t, latq, lonq, now
    tail = arg .. eid
    has_head = true
    written[pkey] = rec .. arg .. scored_with .. eid
    fields[#fields + 1] = pkey; fields[#fields + 1] = written[pkey]
    changed = true
    out[#out + 1] = 'new'; out[#out + 1] = rec
  end
end

if changed then
  -- Forget entries older than the dedupe horizon, keeping the one before it (the predecessor of any
  -- reading still accepted), once ten seconds of event time have piled up. H[6] is the second
  -- entry's time: while it is inside the horizon there is nothing to forget.
  local horizon = H[2] - lateness - H[5]
  if H[6] < H[2] - lateness - PRUNE_SLACK_MS then
    local cut = 0
    while true do
      local chunk = entries_read(cut, math.min(H[12], cut + 64))
      local m = #chunk / ENTRY_SIZE
      local j = 0
      while j < m and struct.unpack('<I', chunk, 1 + j * ENTRY_SIZE) < horizon do j = j + 1 end
      if j < m or cut + m >= H[12] then
        cut = math.max(0, cut + j - 1)
        break
      end
      cut = cut + m - 1
    end
    H[11] = (H[11] + cut) % H[10]
    H[12] = H[12] - cut
    if H[12] >= 2 then
      H[6] = struct.unpack('<I', entries_read(1, 2)) + H[5]
    else
      H[6] = H[2]
    end
  end
  local refresh_ttl = now - H[7] > idle_ttl * 125
  if refresh_ttl then H[7] = now end
  fields[#fields + 1] = 's'
  fields[#fields + 1] = struct.pack(HOT, unpack(H, 1, HOT_N)) .. tail
  redis.call('HSET', K_STATE, unpack(fields))
  for w = 1, NW do
    for k in pairs(dirty[w]) do
      redis.call('SETRANGE', K_TILES, ring_off[w] + k * TILE_SIZE, tiles[w][k])
    end
  end
  -- Refreshed every eighth of the idle ttl, not on every call: an EXPIRE costs as much as a write.
  if refresh_ttl then
    redis.call('EXPIRE', K_STATE, idle_ttl)
    redis.call('EXPIRE', K_TILES, idle_ttl)
  end
end
return out
