/**
 * Lua scripts for the Redis adapter: each money decision is one script, one round trip, atomic.
 * Redis integers are 64-bit but Lua numbers are doubles, so amounts travel as decimal strings,
 * change only through INCRBY/DECRBY, and are compared as strings (`cmp`), never as Lua numbers.
 * Counters (concurrency, fair-use tokens) stay far below 2^53 and are plain numbers.
 *
 * A hold is recorded as `<amount>|<counter key>=<n>,...`: the counters to give back when the hold
 * is settled or expires.
 */
const CMP = `
local function cmp(a, b)
  local na, nb = a:sub(1, 1) == '-', b:sub(1, 1) == '-'
  if na ~= nb then return na and -1 or 1 end
  if na then a, b = b:sub(2), a:sub(2) end
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end
`;

/** Undoes a hold record: its amount from `held`, its counters from their keys. */
const RELEASE = `
local function release(held, record)
  local bar = record:find('|', 1, true)
  local amount = bar and record:sub(1, bar - 1) or record
  redis.call('DECRBY', held, amount)
  if bar then
    for key, n in record:sub(bar + 1):gmatch('([^=,]+)=(%d+)') do
      if redis.call('EXISTS', key) == 1 then redis.call('DECRBY', key, n) end
    end
  end
end

local function release_expired(held, holds, deadlines, now)
  local expired = redis.call('ZRANGEBYSCORE', deadlines, '-inf', now, 'LIMIT', 0, 64)
  for _, id in ipairs(expired) do
    local record = redis.call('HGET', holds, id)
    if record then
      release(held, record)
      redis.call('HDEL', holds, id)
    end
    redis.call('ZREM', deadlines, id)
  end
end
`;

/**
 * KEYS: balance, held, holds, holdDeadlines, intents, counter keys (one per check).
 * ARGV: requestId, amount, overdraft, nowMs, deadlineMs, instance, orphan event JSON, then per
 * check: add, limit, ttlSeconds ('' for none), release ('1'/'0'), name.
 * Returns {'ok', balance, held - overdraft (after this hold), counter values...} | {'no_balance'} |
 * {'insufficient_balance'} | {'duplicate_request'} | {'check_failed', name}: the caller subtracts
 * the two decimal strings exactly (Lua numbers are doubles).
 * The intent (instance + the event to settle if that instance dies) is kept until settlement.
 */
export const RESERVE = `${CMP}${RELEASE}
local balance = redis.call('GET', KEYS[1])
if not balance then return {'no_balance'} end
release_expired(KEYS[2], KEYS[3], KEYS[4], ARGV[4])
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return {'duplicate_request'} end
local checks = (#ARGV - 7) / 5
for i = 1, checks do
  local base = 7 + (i - 1) * 5
  local add, limit = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2])
  local current = tonumber(redis.call('GET', KEYS[5 + i]) or '0')
  if (add > 0 and current + add > limit) or (add == 0 and current >= limit) then
    return {'check_failed', ARGV[base + 5]}
  end
end
-- balance + overdraft >= held + amount, in 64-bit integers: held moves by (amount - overdraft)
-- for the comparison and back by overdraft after it. DECRBY's reply is read back with GET: as a
-- Lua number it would print in exponent form past 10^14 and break the string comparison.
redis.call('INCRBY', KEYS[2], ARGV[2])
redis.call('DECRBY', KEYS[2], ARGV[3])
local after = redis.call('GET', KEYS[2])
redis.call('INCRBY', KEYS[2], ARGV[3])
if cmp(balance, after) < 0 then
  redis.call('DECRBY', KEYS[2], ARGV[2])
  return {'insufficient_balance'}
end
local record = ARGV[2]
local releases = {}
local values = {'ok', balance, after}
for i = 1, checks do
  local base = 7 + (i - 1) * 5
  local key, add, ttl = KEYS[5 + i], tonumber(ARGV[base + 1]), ARGV[base + 3]
  local value = tonumber(redis.call('GET', key) or '0')
  if add > 0 then
    value = redis.call('INCRBY', key, add)
    if ttl ~= '' and redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ttl) end
    if ARGV[base + 4] == '1' then table.insert(releases, key .. '=' .. add) end
  end
  table.insert(values, value)
end
if #releases > 0 then record = record .. '|' .. table.concat(releases, ',') end
redis.call('HSET', KEYS[3], ARGV[1], record)
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[6] .. '|' .. ARGV[7])
return values
`;

/**
 * The settlement, one atomic step: release the hold and its counters, forget the intent, debit the
 * cost, add the consumption, append the usage event, remember the request as settled.
 * KEYS: balance, held, holds, holdDeadlines, settledMarker, intents, stream, consumption counters.
 * ARGV: requestId, cost, markerTtlSeconds, event JSON, then per consumption: amount, ttlSeconds.
 * A balance the store does not hold (Redis lost it) is not created, and its counters are left to
 * the control plane's seed: the event is appended with `d` = 0 (not debited here), and the
 * consumer debits it once it is in the ledger (DEBIT_ONCE) or the seed from the ledger covers it.
 * The settled marker holds '1' when the balance was debited, '0' when not. A repeat changes nothing.
 */
export const SETTLE = `${RELEASE}
if redis.call('EXISTS', KEYS[5]) == 1 then return 'already_settled' end
local record = redis.call('HGET', KEYS[3], ARGV[1])
if record then
  release(KEYS[2], record)
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
end
redis.call('HDEL', KEYS[6], ARGV[1])
local debited = '0'
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DECRBY', KEYS[1], ARGV[2])
  debited = '1'
  for i = 8, #KEYS do
    local base = 4 + (i - 8) * 2
    local amount, ttl = ARGV[base + 1], ARGV[base + 2]
    if tonumber(amount) > 0 then
      redis.call('INCRBY', KEYS[i], amount)
      if ttl ~= '' and redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], ttl) end
    end
  end
end
redis.call('XADD', KEYS[7], '*', 'e', ARGV[4], 'd', debited)
redis.call('SET', KEYS[5], debited, 'EX', ARGV[3])
return 'settled'
`;

/**
 * Settles a request whose data plane died: its intent names the instance; the caller rebuilt the
 * orphan event from it (the input estimate, marked). Same keys as SETTLE without counters; ARGV:
 * requestId, instance, markerTtlSeconds, event JSON, cost. Returns 1 when settled here, 0 when
 * there was nothing to do.
 */
export const SETTLE_ORPHAN = `${RELEASE}
local intent = redis.call('HGET', KEYS[6], ARGV[1])
if not intent then return 0 end
local bar = intent:find('|', 1, true)
if not bar or intent:sub(1, bar - 1) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[6], ARGV[1])
if redis.call('EXISTS', KEYS[5]) == 1 then return 0 end
local record = redis.call('HGET', KEYS[3], ARGV[1])
if record then
  release(KEYS[2], record)
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
end
local debited = '0'
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DECRBY', KEYS[1], ARGV[5])
  debited = '1'
end
redis.call('XADD', KEYS[7], '*', 'e', ARGV[4], 'd', debited)
redis.call('SET', KEYS[5], debited, 'EX', ARGV[3])
return 1
`;

/**
 * The consumer's debit of an event settled while the store held no balance (`d` = 0), once it is
 * in the ledger. KEYS: balance, settledMarker. ARGV: cost, markerTtlSeconds.
 * Returns 1 when debited here, 0 when the marker says it already was, -1 when there is no balance
 * (the seed from the ledger, which holds the event, will cover it).
 */
export const DEBIT_ONCE = `
if redis.call('GET', KEYS[2]) == '1' then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('DECRBY', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
return 1
`;

/**
 * Seeds an org's balance from the ledger. KEYS: balance, then the settled marker of each included
 * request. ARGV: balance, markerTtlSeconds, then the cost of each included request. The included
 * requests are events the ledger holds whose debit the store may not have applied yet: with no
 * balance, the seed (which holds them) marks them debited; with a balance already there, each not
 * yet debited is debited now. Returns 1 when seeded, 0 when a balance was there.
 */
export const SEED_BALANCE = `
local seeded = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1])
  seeded = 1
end
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) ~= '1' then
    if seeded == 0 then redis.call('DECRBY', KEYS[1], ARGV[i + 1]) end
    redis.call('SET', KEYS[i], '1', 'EX', ARGV[2])
  end
end
return seeded
`;

/**
 * Seeds counters an org's limits read (spend per period, from the usage records) where the store
 * has none. KEYS: counter keys. ARGV: per counter: value, ttlSeconds ('' for none); then the mode:
 * 'nx' sets only missing counters, 'set' overwrites (repair). Returns how many were written.
 */
export const SEED_COUNTERS = `
local mode = ARGV[#ARGV]
local written = 0
for i = 1, #KEYS do
  local value, ttl = ARGV[(i - 1) * 2 + 1], ARGV[(i - 1) * 2 + 2]
  if mode == 'set' or redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('SET', KEYS[i], value)
    if ttl ~= '' then redis.call('EXPIRE', KEYS[i], ttl) end
    written = written + 1
  end
end
return written
`;

/** KEYS: balance. ARGV: delta. Adds the delta to a balance the store holds (repair); 0 when none. */
export const ADJUST_BALANCE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('INCRBY', KEYS[1], ARGV[1])
return 1
`;

/** KEYS: the key. ARGV: value ('' deletes), channel, announcement. A write and its announcement, atomically. */
export const PUT_ANNOUNCE = `
if ARGV[1] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[1]) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`;

/** KEYS: balance, creditedMarker. ARGV: amount, markerTtlSeconds. Returns 1, or 0 on a repeat. */
export const APPLY_CREDIT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if not redis.call('GET', KEYS[1]) then return -1 end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
return 1
`;

/** KEYS: routesKey. ARGV: json, version, channel. Keeps the newer table when two publishers race. */
export const PUT_ROUTES = `
local current = redis.call('GET', KEYS[1])
if current then
  local stored = cjson.decode(current)
  if stored.version and stored.version > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[3], cjson.encode({ kind = 'routes', version = tonumber(ARGV[2]) }))
return 1
`;

/** How long breaker state outlives its last change. */
const BREAKER_TTL_SECONDS = 86_400;

/**
 * KEYS: breaker. ARGV: nowMs, threshold, coolDownMs, announceChannel, channelId.
 * A failure while half-open (the cool-down is over) re-opens at once; while closed, the breaker
 * opens when consecutive failures reach the threshold. Returns {openUntil, failures}.
 */
export const BREAKER_FAILURE = `
local now, threshold, cool = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil') or '0')
if (openUntil > 0 and openUntil <= now) or (openUntil == 0 and failures >= threshold) then
  openUntil = now + cool
  redis.call('HSET', KEYS[1], 'openUntil', openUntil)
  redis.call('HDEL', KEYS[1], 'probe')
  redis.call('PUBLISH', ARGV[4], cjson.encode({ kind = 'breaker', channelId = ARGV[5] }))
end
redis.call('EXPIRE', KEYS[1], ${BREAKER_TTL_SECONDS})
return {openUntil, failures}
`;

/** KEYS: breaker. ARGV: announceChannel, channelId. Closes the breaker; announces if it was open. */
export const BREAKER_SUCCESS = `
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil') or '0')
redis.call('DEL', KEYS[1])
if openUntil > 0 then
  redis.call('PUBLISH', ARGV[1], cjson.encode({ kind = 'breaker', channelId = ARGV[2] }))
end
return openUntil
`;

/** KEYS: breaker. ARGV: nowMs, ttlMs. 1 when the caller may send the half-open probe. */
export const BREAKER_PROBE = `
local now = tonumber(ARGV[1])
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil') or '0')
if openUntil == 0 then return 1 end
if openUntil > now then return 0 end
local probe = tonumber(redis.call('HGET', KEYS[1], 'probe') or '0')
if probe > now then return 0 end
redis.call('HSET', KEYS[1], 'probe', now + tonumber(ARGV[2]))
return 1
`;
