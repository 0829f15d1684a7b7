-- Atomic GCRA check-and-spend over every key in KEYS (all or nothing).
-- ARGV per key: amount, limit, windowMs. Time comes from Redis, so replicas with skewed clocks agree.
-- Returns { allowed, then per key: allowed, remaining, retryAfterMs, resetMs }.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = { 1 }
local newTats = {}
for i = 1, #KEYS do
  local amount = tonumber(ARGV[(i - 1) * 3 + 1])
  local limit = tonumber(ARGV[(i - 1) * 3 + 2])
  local window = tonumber(ARGV[(i - 1) * 3 + 3])
  local interval = window / limit
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat == nil or tat < now then tat = now end
  local newTat = tat + amount * interval
  local allowAt = newTat - window
  local ok = allowAt <= now
  local basis = tat
  if ok then basis = newTat else out[1] = 0 end
  local remaining = math.floor((window - (basis - now)) / interval)
  if remaining < 0 then remaining = 0 end
  local retry = 0
  if not ok then retry = math.ceil(allowAt - now) end
  newTats[i] = newTat
  out[#out + 1] = ok and 1 or 0
  out[#out + 1] = remaining
  out[#out + 1] = retry
  out[#out + 1] = math.ceil(basis - now)
end
if out[1] == 1 then
  for i = 1, #KEYS do
    -- Every key expires once its budget would be full again: nothing is kept for idle identities.
    redis.call('SET', KEYS[i], string.format('%.3f', newTats[i]), 'PX', math.ceil(newTats[i] - now) + 1)
  end
end
return out
