-- One device's token bucket, taken in one atomic call (one round trip per request).
-- KEYS[1] the bucket: a hash, 't' tokens (fractional), 'u' when they were counted (ms, Redis clock)
-- ARGV[1] refill rate (tokens per second)  ARGV[2] capacity (burst)  ARGV[3] cost of this request
-- Returns { allowed (1 or 0), ms until `cost` tokens are there (0 when allowed), whole tokens left }.
--
-- The clock is Redis's own (TIME), so gateway instances with skewed clocks share one bucket
-- correctly. A bucket left alone refills to capacity, and then its key expires: an idle device
-- costs nothing.

local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local saved = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens, counted = tonumber(saved[1]), tonumber(saved[2])
if tokens == nil or counted == nil then
  tokens, counted = burst, now
elseif now > counted then
  tokens = math.min(burst, tokens + (now - counted) * rate / 1000)
  counted = now
end

local allowed, wait_ms = 0, 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait_ms = math.max(1, math.ceil((cost - tokens) * 1000 / rate))
end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'u', string.format('%.0f', counted))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return { allowed, wait_ms, math.floor(tokens) }
