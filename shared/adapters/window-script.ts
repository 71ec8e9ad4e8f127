import { WINDOWS } from '../windows/window-spec.js';

/**
 * The Redis script that applies a vehicle's readings to its tiled windows in one round trip.
 * Layouts are documented in windows/window-snapshot.ts; the window table is generated from
 * WINDOWS so TypeScript and Lua share one definition.
 *
 * KEYS[1] vehicle hash, fields:
 *   s        hot state: header, then per window its running aggregate and its head tile
 *   r1..rN   per window the ring of tiles (the head tile's slot is stale: `s` holds that tile)
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
 * Why the state is split: every string that enters Lua is hashed byte by byte (Redis hardened
 * Lua's string hash), so reading and rewriting one 3.3 KB state per reading cost more than all
 * the arithmetic. A reading in its window's head tile (9 of 10 at 1 Hz) touches only the ~0.5 KB
 * hot part; a ring is read and written only when its window moves to a new tile or an
 * out-of-order reading lands in an older tile.
 */
const windowTable = WINDOWS.map((w) => `{${w.tileMs}, ${w.tiles}}`).join(', ');

export const APPLY_READINGS_LUA = `
local WIN = { ${windowTable} }
local NW = #WIN
local HEADER = '<Bddd'
local HEADER_SIZE = 25
local RUN = '<Idddddffff'
local RUN_SIZE = 60
local TILE = '<iIdddddffff'
local TILE_SIZE = 64
local READING = '<dddddddI'
local REC_HEAD = '<BId'
local REC_WIN = '<Ifffffffff'
-- Header version: 0 no reading applied yet, 1 the former single-string layout (converted on
-- read), 2 this layout.
local LAYOUT = 2

local now = tonumber(ARGV[1])
local lateness = tonumber(ARGV[2])
local dedupe_ttl = tonumber(ARGV[3])
local idle_ttl = tonumber(ARGV[4])

local EMPTY_TILE = struct.pack(TILE, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
local EMPTY_RUN = struct.pack(RUN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

-- Offsets in the hot state (1-based): per window its running aggregate, then its head tile.
local run_off, tile_off = {}, {}
local ring_field = {}
do
  local off = HEADER_SIZE + 1
  for w = 1, NW do
    run_off[w] = off
    tile_off[w] = off + RUN_SIZE
    off = off + RUN_SIZE + TILE_SIZE
    ring_field[w] = 'r' .. w
  end
end

local state = redis.call('HGET', KEYS[1], 's')
local version, head, last_lat, last_lon = 0, 0, 0, 0
-- Per window: the ring string once loaded, its patched slots, the head tile's slot, and whether
-- the ring must be written even without patches (converted from the former layout).
local rings, ring_patch, hot_slot, ring_dirty = {}, {}, {}, {}
if state then
  version, head, last_lat, last_lon = struct.unpack(HEADER, state)
  if version == 1 then
    -- The former layout: header, then per window its running aggregate and the whole ring.
    local parts = { struct.pack(HEADER, LAYOUT, head, last_lat, last_lon) }
    local off = HEADER_SIZE + 1
    for w = 1, NW do
      local n = WIN[w][2]
      local ring_start = off + RUN_SIZE
      local slot = math.floor(head / WIN[w][1]) % n
      parts[#parts + 1] = string.sub(state, off, ring_start - 1)
      parts[#parts + 1] = string.sub(state, ring_start + slot * TILE_SIZE, ring_start + (slot + 1) * TILE_SIZE - 1)
      rings[w] = string.sub(state, ring_start, ring_start + n * TILE_SIZE - 1)
      ring_patch[w] = {}
      ring_dirty[w] = true
      off = ring_start + n * TILE_SIZE
    end
    state = table.concat(parts)
  end
  for w = 1, NW do hot_slot[w] = math.floor(head / WIN[w][1]) % WIN[w][2] end
else
  local parts = { struct.pack(HEADER, 0, 0, 0, 0) }
  for w = 1, NW do
    parts[#parts + 1] = EMPTY_RUN
    parts[#parts + 1] = EMPTY_TILE
    rings[w] = string.rep(EMPTY_TILE, WIN[w][2])
    ring_patch[w] = {}
  end
  state = table.concat(parts)
end
local has_head = version ~= 0

-- Writes are collected as patches (hot state: by offset, rings: by slot) and spliced once at the end.
local patch = {}
local function read(fmt, off)
  local p = patch[off]
  if p then return struct.unpack(fmt, p) end
  return struct.unpack(fmt, state, off)
end

local function load_ring(w)
  if not rings[w] then
    rings[w] = redis.call('HGET', KEYS[1], ring_field[w]) or string.rep(EMPTY_TILE, WIN[w][2])
    ring_patch[w] = {}
  end
end

-- The tile in slot k of window w's ring, the head tile for the head slot.
local function read_slot(w, k)
  if k == hot_slot[w] then return read(TILE, tile_off[w]) end
  load_ring(w)
  local p = ring_patch[w][k]
  if p then return struct.unpack(TILE, p) end
  return struct.unpack(TILE, rings[w], 1 + k * TILE_SIZE)
end

local function write_slot(w, k, packed)
  if k == hot_slot[w] then
    patch[tile_off[w]] = packed
  else
    load_ring(w)
    ring_patch[w][k] = packed
  end
end

local function haversine_km(lat1, lon1, lat2, lon2)
  local r = math.pi / 180
  local dlat = (lat2 - lat1) * r
  local dlon = (lon2 - lon1) * r
  local a = math.sin(dlat / 2) ^ 2 + math.cos(lat1 * r) * math.cos(lat2 * r) * math.sin(dlon / 2) ^ 2
  return 2 * 6371.0088 * math.asin(math.min(1, math.sqrt(a)))
end

-- Merge the ring tiles of window w whose ids lie in [lo, hi].
local function merge(w, lo, hi)
  local c, ss, sq, ts, tq, d, smin, smax, tmin, tmax = 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
  for k = 0, WIN[w][2] - 1 do
    local id, tc, tss, tsq, tts, ttq, td, tsmin, tsmax, ttmin, ttmax = read_slot(w, k)
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

-- Add one reading to tile tid in slot k (restarting the slot when it holds an expired tile).
local function add_tile(w, k, tid, sp, tp, seg)
  local id, c, ss, sq, ts, tq, d, smin, smax, tmin, tmax = read_slot(w, k)
  if id ~= tid or c == 0 then
    write_slot(w, k, struct.pack(TILE, tid, 1, sp, sp * sp, tp, tp * tp, seg, sp, sp, tp, tp))
  else
    if sp < smin then smin = sp end
    if sp > smax then smax = sp end
    if tp < tmin then tmin = tp end
    if tp > tmax then tmax = tp end
    write_slot(w, k, struct.pack(TILE, tid, c + 1, ss + sp, sq + sp * sp, ts + tp, tq + tp * tp, d + seg, smin, smax, tmin, tmax))
  end
end

local function add_run(off, sp, tp, seg)
  local c, ss, sq, ts, tq, d, smin, smax, tmin, tmax = read(RUN, off)
  if c == 0 then
    smin, smax, tmin, tmax = sp, sp, tp, tp
  else
    if sp < smin then smin = sp end
    if sp > smax then smax = sp end
    if tp < tmin then tmin = tp end
    if tp > tmax then tmax = tp end
  end
  patch[off] = struct.pack(RUN, c + 1, ss + sp, sq + sp * sp, ts + tp, tq + tp * tp, d + seg, smin, smax, tmin, tmax)
end

local function snapshot(c, ss, sq, ts, tq, d, smin, smax, tmin, tmax)
  if c == 0 then return struct.pack(REC_WIN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) end
  local sm, tm = ss / c, ts / c
  local sv, tv = sq / c - sm * sm, tq / c - tm * tm
  if sv < 0 then sv = 0 end
  if tv < 0 then tv = 0 end
  return struct.pack(REC_WIN, c, sm, smin, smax, math.sqrt(sv), tm, tmin, tmax, math.sqrt(tv), d)
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
    rec = struct.pack(REC_HEAD, 2, fp, now)
    redis.call('HSET', KEYS[2], eid, rec)
    wrote_dedupe = true
    out[#out + 1] = 'late'
    out[#out + 1] = rec
  else
    local ooo = has_head and t < head
    local seg = 0
    if has_head and not ooo then seg = haversine_km(last_lat, last_lon, lat, lon) end
    local parts = { struct.pack(REC_HEAD, ooo and 1 or 0, fp, now) }
    for w = 1, NW do
      local tile, n = WIN[w][1], WIN[w][2]
      local tid = math.floor(t / tile)
      local htid = tid
      if has_head then htid = math.floor(head / tile) end
      local run_o = run_off[w]
      if not ooo then
        if not has_head or tid > htid then
          -- The window moves to a new head tile: the old one goes back to its ring slot.
          if has_head then
            load_ring(w)
            ring_patch[w][hot_slot[w]] = patch[tile_off[w]] or string.sub(state, tile_off[w], tile_off[w] + TILE_SIZE - 1)
          end
          hot_slot[w] = tid % n
          patch[tile_off[w]] = struct.pack(TILE, tid, 1, sp, sp * sp, tp, tp * tp, seg, sp, sp, tp, tp)
          patch[run_o] = struct.pack(RUN, merge(w, tid - n + 1, tid))
        else
          add_tile(w, tid % n, tid, sp, tp, seg)
          add_run(run_o, sp, tp, seg)
        end
        parts[#parts + 1] = snapshot(read(RUN, run_o))
      elseif tid > htid - n then
        add_tile(w, tid % n, tid, sp, tp, 0)
        add_run(run_o, sp, tp, 0)
        if tid == htid then
          parts[#parts + 1] = snapshot(read(RUN, run_o))
        else
          parts[#parts + 1] = snapshot(merge(w, htid - n + 1, tid))
        end
      else
        parts[#parts + 1] = snapshot(0)
      end
    end
    rec = table.concat(parts)
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
  patch[1] = struct.pack(HEADER, LAYOUT, head, last_lat, last_lon)
  local fields = { 's', splice(state, patch) }
  for w = 1, NW do
    local patches = ring_patch[w]
    if ring_dirty[w] or (patches and next(patches)) then
      local offs = {}
      for k, p in pairs(patches) do offs[1 + k * TILE_SIZE] = p end
      fields[#fields + 1] = ring_field[w]
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
