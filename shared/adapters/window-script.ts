import { WINDOWS } from '../windows/window-spec.js';

/**
 * The Redis script that applies a vehicle's readings to its tiled windows in one round trip.
 * Layouts are documented in windows/window-snapshot.ts; the window table is generated from
 * WINDOWS so TypeScript and Lua share one definition.
 *
 * KEYS[1] vehicle hash, fields:
 *   s        hot state '<Bddd' + per window '<Idddddffff' + '<iIdddddffff':
 *            header (layout version, head event time, last in-order position), then per window
 *            its running aggregate and its head tile
 *   r1..rN   per window the ring of tiles '<iIdddddffff' (the head tile's slot is stale: `s`
 *            holds that tile); absent until the window first moves to a new tile
 *   l        latest vector
 * KEYS[2] dedupe hash of the current retention generation, KEYS[3] of the previous one
 * ARGV[1] now (processed_ts, ms)  ARGV[2] allowed lateness (ms)
 * ARGV[3] dedupe key ttl (s)      ARGV[4] vehicle idle ttl (s)
 * ARGV[5..] pairs: event_id, packed reading
 * Returns a flat array: outcome ('new' | 'dup' | 'conflict' | 'late'), record, ... per reading.
 *
 * Per-reading work is O(1) in window length: each window keeps a running aggregate of its ring;
 * the ring is re-merged only when a window moves to a new tile (amortised a few tiles per reading),
 * and out-of-order readings (rare) merge their own range.
 *
 * Cost model (Redis 7, measured with the bench): every string entering Lua is hashed byte by byte,
 * and each struct.pack/unpack call has a fixed cost. So the hot state is unpacked once into a
 * table of numbers and packed once at the end, a reading in its windows' head tiles (9 of 10 at
 * 1 Hz) never touches a ring, and a ring is read and written only when its window moves to a new
 * tile or an out-of-order reading lands in an older tile. Minima and maxima are float32 when packed
 * and doubles in the table; rounding is monotonic (the float32 of a minimum is the minimum of the
 * float32s), so keeping them unrounded between readings of a batch gives the very same bytes.
 */
const windowTable = WINDOWS.map((w) => `{${w.tileMs}, ${w.tiles}}`).join(', ');
/** Per window in the hot state: running aggregate (10 values) + head tile (11 values). */
const HOT_WINDOW_VALUES = 21;
const hotFormat = `<Bddd${'IdddddffffiIdddddffff'.repeat(WINDOWS.length)}`;
const recordFormat = `<BId${'Ifffffffff'.repeat(WINDOWS.length)}`;
const ringFields = WINDOWS.map((_, i) => `'r${i + 1}'`).join(', ');

export const APPLY_READINGS_LUA = `
local WIN = { ${windowTable} }
local NW = #WIN
local HOT = '${hotFormat}'
local HOT_N = 4 + ${HOT_WINDOW_VALUES} * NW
local RUN = '<Idddddffff'
local RUN_SIZE = 60
local TILE = '<iIdddddffff'
local TILE_SIZE = 64
local READING = '<dddddddI'
local REC = '${recordFormat}'
local LATE_REC = '<BId'
local RING_FIELD = { ${ringFields} }
-- Header version: 0 no reading applied yet, 1 the former single-string layout (header, then per
-- window its running aggregate and whole ring; converted when read), 2 this layout.
local LAYOUT = 2

local now = tonumber(ARGV[1])
local lateness = tonumber(ARGV[2])
local dedupe_ttl = tonumber(ARGV[3])
local idle_ttl = tonumber(ARGV[4])

-- H: the hot state as numbers. Window w's running aggregate is H[b+1..b+10] (count, speed sum,
-- speed sum of squares, temp sum, temp sum of squares, distance, speed min, speed max, temp min,
-- temp max) and its head tile H[b+11..b+21] (tile id, then the same ten), b = 4 + 21 * (w - 1).
local H
-- Per window: the ring string once loaded, its patched slots (packed tiles), whether it must be
-- written without patches (converted), and the head tile's slot.
local rings, ring_patch, ring_dirty, hot_slot = {}, {}, {}, {}
local stored = true

local state = redis.call('HGET', KEYS[1], 's')
if not state then
  stored = false
  H = { 0, 0, 0, 0 }
  for w = 1, NW do
    local b = 4 + ${HOT_WINDOW_VALUES} * (w - 1)
    for j = 1, ${HOT_WINDOW_VALUES} do H[b + j] = 0 end
    H[b + 11] = -1
  end
elseif string.byte(state, 1) == 1 then
  local version, head, lat, lon = struct.unpack('<Bddd', state)
  H = { LAYOUT, head, lat, lon }
  local off = 26
  for w = 1, NW do
    local n = WIN[w][2]
    local ring_start = off + RUN_SIZE
    local slot = math.floor(head / WIN[w][1]) % n
    local run = { struct.unpack(RUN, state, off) }
    local tile = { struct.unpack(TILE, state, ring_start + slot * TILE_SIZE) }
    for j = 1, 10 do H[#H + 1] = run[j] end
    for j = 1, 11 do H[#H + 1] = tile[j] end
    rings[w] = string.sub(state, ring_start, ring_start + n * TILE_SIZE - 1)
    ring_patch[w] = {}
    ring_dirty[w] = true
    off = ring_start + n * TILE_SIZE
  end
else
  H = { struct.unpack(HOT, state) }
end
local has_head = H[1] ~= 0
local head, last_lat, last_lon = H[2], H[3], H[4]
if has_head then
  for w = 1, NW do hot_slot[w] = math.floor(head / WIN[w][1]) % WIN[w][2] end
end

local function load_ring(w)
  if rings[w] then return end
  local ring = stored and redis.call('HGET', KEYS[1], RING_FIELD[w])
  if not ring then ring = string.rep(struct.pack(TILE, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), WIN[w][2]) end
  rings[w] = ring
  ring_patch[w] = {}
end

-- The tile in ring slot k of window w (not the head tile's slot).
local function ring_tile(w, k)
  load_ring(w)
  local p = ring_patch[w][k]
  if p then return struct.unpack(TILE, p) end
  return struct.unpack(TILE, rings[w], 1 + k * TILE_SIZE)
end

local function haversine_km(lat1, lon1, lat2, lon2)
  local r = math.pi / 180
  local dlat = (lat2 - lat1) * r
  local dlon = (lon2 - lon1) * r
  local a = math.sin(dlat / 2) ^ 2 + math.cos(lat1 * r) * math.cos(lat2 * r) * math.sin(dlon / 2) ^ 2
  return 2 * 6371.0088 * math.asin(math.min(1, math.sqrt(a)))
end

-- Merge the tiles of window w (ring slots, the head tile in its slot) whose ids lie in [lo, hi].
local function merge(w, lo, hi)
  local c, ss, sq, ts, tq, d, smin, smax, tmin, tmax = 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
  local b = 4 + ${HOT_WINDOW_VALUES} * (w - 1) + 10
  local hs = hot_slot[w]
  for k = 0, WIN[w][2] - 1 do
    local id, tc, tss, tsq, tts, ttq, td, tsmin, tsmax, ttmin, ttmax
    if k == hs then
      id, tc, tss, tsq, tts, ttq = H[b + 1], H[b + 2], H[b + 3], H[b + 4], H[b + 5], H[b + 6]
      td, tsmin, tsmax, ttmin, ttmax = H[b + 7], H[b + 8], H[b + 9], H[b + 10], H[b + 11]
    else
      id, tc, tss, tsq, tts, ttq, td, tsmin, tsmax, ttmin, ttmax = ring_tile(w, k)
    end
    if tc > 0 and id >= lo and id <= hi then
      if c == 0 then
        smin, smax, tmin, tmax = tsmin, tsmax, ttmin, ttmax
      else
        if tsmin < smin then smin = tsmin end
        if tsmax > smax then smax = tsmax end
        if ttmin < tmin then tmin = ttmin end
        if ttmax > tmax then tmax = ttmax end
      end
      c = c + tc; ss = ss + tss; sq = sq + tsq; ts = ts + tts; tq = tq + ttq; d = d + td
    end
  end
  return c, ss, sq, ts, tq, d, smin, smax, tmin, tmax
end

-- Add a reading to the aggregate at H[b+1..b+10].
local function add(b, sp, tp, seg)
  local c = H[b + 1]
  if c == 0 then
    H[b + 7], H[b + 8], H[b + 9], H[b + 10] = sp, sp, tp, tp
  else
    if sp < H[b + 7] then H[b + 7] = sp end
    if sp > H[b + 8] then H[b + 8] = sp end
    if tp < H[b + 9] then H[b + 9] = tp end
    if tp > H[b + 10] then H[b + 10] = tp end
  end
  H[b + 1] = c + 1
  H[b + 2] = H[b + 2] + sp
  H[b + 3] = H[b + 3] + sp * sp
  H[b + 4] = H[b + 4] + tp
  H[b + 5] = H[b + 5] + tp * tp
  H[b + 6] = H[b + 6] + seg
end

-- Start tile tid at H[b+1..b+11] with one reading.
local function start_tile(b, tid, sp, tp, seg)
  H[b + 1], H[b + 2], H[b + 3], H[b + 4], H[b + 5], H[b + 6] = tid, 1, sp, sp * sp, tp, tp * tp
  H[b + 7], H[b + 8], H[b + 9], H[b + 10], H[b + 11] = seg, sp, sp, tp, tp
end

-- Add a reading to tile tid of the head tile at H[b+1..b+11] (restarting it if it holds another tile).
local function add_head_tile(b, tid, sp, tp, seg)
  if H[b + 1] ~= tid or H[b + 2] == 0 then
    start_tile(b, tid, sp, tp, seg)
  else
    add(b + 1, sp, tp, seg)
  end
end

-- Add a reading to tile tid in ring slot k (restarting the slot when it holds an expired tile).
local function add_ring_tile(w, k, tid, sp, tp, seg)
  local id, c, ss, sq, ts, tq, d, smin, smax, tmin, tmax = ring_tile(w, k)
  if id ~= tid or c == 0 then
    ring_patch[w][k] = struct.pack(TILE, tid, 1, sp, sp * sp, tp, tp * tp, seg, sp, sp, tp, tp)
  else
    if sp < smin then smin = sp end
    if sp > smax then smax = sp end
    if tp < tmin then tmin = tp end
    if tp > tmax then tmax = tp end
    ring_patch[w][k] = struct.pack(TILE, tid, c + 1, ss + sp, sq + sp * sp, ts + tp, tq + tp * tp, d + seg, smin, smax, tmin, tmax)
  end
end

-- Append window statistics to the record values v.
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
  v[o + 1], v[o + 2], v[o + 3], v[o + 4], v[o + 5] = c, sm, smin, smax, math.sqrt(sv)
  v[o + 6], v[o + 7], v[o + 8], v[o + 9], v[o + 10] = tm, tmin, tmax, math.sqrt(tv), d
end

local function run_snapshot(v, b)
  snapshot(v, H[b + 1], H[b + 2], H[b + 3], H[b + 4], H[b + 5], H[b + 6], H[b + 7], H[b + 8], H[b + 9], H[b + 10])
end

-- One string from a base string and patches keyed by 1-based offset.
local function splice(base, patches)
  local offs = {}
  for o in pairs(patches) do offs[#offs + 1] = o end
  table.sort(offs)
  local pieces = {}
  local pos = 1
  for _, o in ipairs(offs) do
    if o > pos then pieces[#pieces + 1] = string.sub(base, pos, o - 1) end
    local p = patches[o]
    pieces[#pieces + 1] = p
    pos = o + #p
  end
  if pos <= #base then pieces[#pieces + 1] = string.sub(base, pos) end
  return table.concat(pieces)
end

local out = {}
local changed = false
local wrote_dedupe = false
local latest = nil
for i = 5, #ARGV, 2 do
  local eid = ARGV[i]
  local arg = ARGV[i + 1]
  local t, sp, tp, lat, lon, _, _, fp = struct.unpack(READING, arg)
  local rec = redis.call('HGET', KEYS[2], eid)
  if not rec then rec = redis.call('HGET', KEYS[3], eid) end
  if rec then
    local _, rfp = struct.unpack('<BI', rec)
    out[#out + 1] = (rfp == fp) and 'dup' or 'conflict'
    out[#out + 1] = rec
  elseif has_head and t < head - lateness then
    rec = struct.pack(LATE_REC, 2, fp, now)
    redis.call('HSET', KEYS[2], eid, rec)
    wrote_dedupe = true
    out[#out + 1] = 'late'
    out[#out + 1] = rec
  else
    local ooo = has_head and t < head
    local seg = 0
    if has_head and not ooo then seg = haversine_km(last_lat, last_lon, lat, lon) end
    local v = { ooo and 1 or 0, fp, now }
    for w = 1, NW do
      local tile, n = WIN[w][1], WIN[w][2]
      local tid = math.floor(t / tile)
      local htid = tid
      if has_head then htid = math.floor(head / tile) end
      local b = 4 + ${HOT_WINDOW_VALUES} * (w - 1)
      if not ooo then
        if not has_head or tid > htid then
          -- The window moves to a new head tile: the old one goes back to its ring slot.
          if has_head then
            load_ring(w)
            ring_patch[w][hot_slot[w]] = struct.pack(TILE, unpack(H, b + 11, b + 21))
          end
          hot_slot[w] = tid % n
          start_tile(b + 10, tid, sp, tp, seg)
          H[b + 1], H[b + 2], H[b + 3], H[b + 4], H[b + 5], H[b + 6], H[b + 7], H[b + 8], H[b + 9], H[b + 10] =
            merge(w, tid - n + 1, tid)
        else
          add_head_tile(b + 10, tid, sp, tp, seg)
          add(b, sp, tp, seg)
        end
        run_snapshot(v, b)
      elseif tid > htid - n then
        if tid == htid then
          add_head_tile(b + 10, tid, sp, tp, 0)
        else
          add_ring_tile(w, tid % n, tid, sp, tp, 0)
        end
        add(b, sp, tp, 0)
        if tid == htid then
          run_snapshot(v, b)
        else
          snapshot(v, merge(w, htid - n + 1, tid))
        end
      else
        snapshot(v, 0)
      end
    end
    rec = struct.pack(REC, unpack(v))
    if not ooo then
      head, last_lat, last_lon, has_head = t, lat, lon, true
      latest = rec .. arg .. eid
    end
    changed = true
    redis.call('HSET', KEYS[2], eid, rec)
    wrote_dedupe = true
    out[#out + 1] = 'new'
    out[#out + 1] = rec
  end
end

if changed then
  H[1], H[2], H[3], H[4] = LAYOUT, head, last_lat, last_lon
  local fields = { 's', struct.pack(HOT, unpack(H, 1, HOT_N)) }
  for w = 1, NW do
    local patches = ring_patch[w]
    if ring_dirty[w] or (patches and next(patches)) then
      local offs = {}
      for k, p in pairs(patches) do offs[1 + k * TILE_SIZE] = p end
      fields[#fields + 1] = RING_FIELD[w]
      fields[#fields + 1] = splice(rings[w], offs)
    end
  end
  if latest then
    fields[#fields + 1] = 'l'
    fields[#fields + 1] = latest
  end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('EXPIRE', KEYS[1], idle_ttl)
end
if wrote_dedupe then redis.call('EXPIRE', KEYS[2], dedupe_ttl) end
return out
`;
