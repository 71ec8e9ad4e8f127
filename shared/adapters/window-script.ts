import { WINDOWS } from '../windows/window-spec.js';

/**
 * The Redis script that applies a vehicle's readings to its tiled windows in one round trip.
 * Layouts are documented in windows/window-snapshot.ts; the window table is generated from
 * WINDOWS so TypeScript and Lua share one definition.
 *
 * KEYS[1] vehicle hash (fields: s = window state, l = latest vector)
 * KEYS[2] dedupe hash of the current retention generation, KEYS[3] of the previous one
 * ARGV[1] now (processed_ts, ms)  ARGV[2] allowed lateness (ms)
 * ARGV[3] dedupe key ttl (s)      ARGV[4] vehicle idle ttl (s)
 * ARGV[5..] pairs: event_id, packed reading
 * Returns a flat array: outcome ('new' | 'dup' | 'conflict' | 'late'), record, ... per reading.
 *
 * Per-reading work is O(1) in window length: each window keeps a running aggregate of its ring;
 * the ring is re-merged only when a window moves to a new tile (amortised a few tiles per reading),
 * and out-of-order readings (rare) merge their own range.
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

local now = tonumber(ARGV[1])
local lateness = tonumber(ARGV[2])
local dedupe_ttl = tonumber(ARGV[3])
local idle_ttl = tonumber(ARGV[4])

local base = {}
local size = HEADER_SIZE + 1
for w = 1, NW do
  base[w] = size
  size = size + RUN_SIZE + WIN[w][2] * TILE_SIZE
end

local state = redis.call('HGET', KEYS[1], 's')
local version, head, last_lat, last_lon = 0, 0, 0, 0
if state then
  version, head, last_lat, last_lon = struct.unpack(HEADER, state)
else
  local parts = { struct.pack(HEADER, 0, 0, 0, 0) }
  local empty_tile = struct.pack(TILE, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
  for w = 1, NW do
    parts[#parts + 1] = struct.pack(RUN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    parts[#parts + 1] = string.rep(empty_tile, WIN[w][2])
  end
  state = table.concat(parts)
end

-- Writes are collected as patches at fixed offsets and spliced once at the end.
local patch = {}
local function read(fmt, off)
  local p = patch[off]
  if p then return struct.unpack(fmt, p) end
  return struct.unpack(fmt, state, off)
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
  local off = base[w] + RUN_SIZE
  for k = 0, WIN[w][2] - 1 do
    local id, tc, tss, tsq, tts, ttq, td, tsmin, tsmax, ttmin, ttmax = read(TILE, off + k * TILE_SIZE)
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

-- Add one reading to the tile at off (restarting it when it holds an expired tile).
local function add_tile(off, tid, sp, tp, seg)
  local id, c, ss, sq, ts, tq, d, smin, smax, tmin, tmax = read(TILE, off)
  if id ~= tid or c == 0 then
    patch[off] = struct.pack(TILE, tid, 1, sp, sp * sp, tp, tp * tp, seg, sp, sp, tp, tp)
  else
    if sp < smin then smin = sp end
    if sp > smax then smax = sp end
    if tp < tmin then tmin = tp end
    if tp > tmax then tmax = tp end
    patch[off] = struct.pack(TILE, tid, c + 1, ss + sp, sq + sp * sp, ts + tp, tq + tp * tp, d + seg, smin, smax, tmin, tmax)
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
  elseif version == 1 and t < head - lateness then
    rec = struct.pack(REC_HEAD, 2, fp, now)
    redis.call('HSET', KEYS[2], eid, rec)
    wrote_dedupe = true
    out[#out + 1] = 'late'
    out[#out + 1] = rec
  else
    local ooo = version == 1 and t < head
    local seg = 0
    if version == 1 and not ooo then seg = haversine_km(last_lat, last_lon, lat, lon) end
    local parts = { struct.pack(REC_HEAD, ooo and 1 or 0, fp, now) }
    for w = 1, NW do
      local tile, n = WIN[w][1], WIN[w][2]
      local tid = math.floor(t / tile)
      local htid = tid
      if version == 1 then htid = math.floor(head / tile) end
      local run_off = base[w]
      local tile_off = run_off + RUN_SIZE + (tid % n) * TILE_SIZE
      if not ooo then
        if version == 0 or tid > htid then
          patch[tile_off] = struct.pack(TILE, tid, 1, sp, sp * sp, tp, tp * tp, seg, sp, sp, tp, tp)
          patch[run_off] = struct.pack(RUN, merge(w, tid - n + 1, tid))
        else
          add_tile(tile_off, tid, sp, tp, seg)
          add_run(run_off, sp, tp, seg)
        end
        parts[#parts + 1] = snapshot(read(RUN, run_off))
      elseif tid > htid - n then
        add_tile(tile_off, tid, sp, tp, 0)
        add_run(run_off, sp, tp, 0)
        if tid == htid then
          parts[#parts + 1] = snapshot(read(RUN, run_off))
        else
          parts[#parts + 1] = snapshot(merge(w, htid - n + 1, tid))
        end
      else
        parts[#parts + 1] = snapshot(0)
      end
    end
    rec = table.concat(parts)
    if not ooo then
      head, last_lat, last_lon, version = t, lat, lon, 1
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
  patch[1] = struct.pack(HEADER, 1, head, last_lat, last_lon)
  local offs = {}
  for o in pairs(patch) do offs[#offs + 1] = o end
  table.sort(offs)
  local pieces = {}
  local pos = 1
  for _, o in ipairs(offs) do
    if o > pos then pieces[#pieces + 1] = string.sub(state, pos, o - 1) end
    local p = patch[o]
    pieces[#pieces + 1] = p
    pos = o + #p
  end
  if pos <= #state then pieces[#pieces + 1] = string.sub(state, pos) end
  if latest then
    redis.call('HSET', KEYS[1], 's', table.concat(pieces), 'l', latest)
  else
    redis.call('HSET', KEYS[1], 's', table.concat(pieces))
  end
  redis.call('EXPIRE', KEYS[1], idle_ttl)
end
if wrote_dedupe then redis.call('EXPIRE', KEYS[2], dedupe_ttl) end
return out
`;
