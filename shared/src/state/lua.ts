/**
 * Lua scripts for the Redis adapter: each money decision is one script, one round trip, atomic.
 * Redis integers are 64-bit but Lua numbers are doubles, so amounts travel as decimal strings,
 * change only through INCRBY/DECRBY, and are compared as strings (`cmp`), never as Lua numbers.
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

/** Releases holds whose deadline passed (their data plane died before settling). */
const RELEASE_EXPIRED = `
local function release_expired(held, holds, deadlines, now)
  local expired = redis.call('ZRANGEBYSCORE', deadlines, '-inf', now, 'LIMIT', 0, 64)
  for _, id in ipairs(expired) do
    local amount = redis.call('HGET', holds, id)
    if amount then
      redis.call('DECRBY', held, amount)
      redis.call('HDEL', holds, id)
    end
    redis.call('ZREM', deadlines, id)
  end
end
`;

/**
 * KEYS: balance, held, holds, holdDeadlines. ARGV: requestId, amount, nowMs, deadlineMs.
 * Returns 'ok' | 'no_balance' | 'insufficient_balance' | 'duplicate_request'.
 */
export const RESERVE = `${CMP}${RELEASE_EXPIRED}
local balance = redis.call('GET', KEYS[1])
if not balance then return 'no_balance' end
release_expired(KEYS[2], KEYS[3], KEYS[4], ARGV[3])
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 'duplicate_request' end
redis.call('INCRBY', KEYS[2], ARGV[2])
local held = redis.call('GET', KEYS[2])
if cmp(balance, held) < 0 then
  redis.call('DECRBY', KEYS[2], ARGV[2])
  return 'insufficient_balance'
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return 'ok'
`;

/**
 * KEYS: balance, held, holds, holdDeadlines, settledMarker. ARGV: requestId, cost, markerTtlSeconds.
 * The hold may already be gone (expired on a long request): the cost is debited all the same.
 */
export const SETTLE = `
if redis.call('EXISTS', KEYS[5]) == 1 then return 'already_settled' end
local amount = redis.call('HGET', KEYS[3], ARGV[1])
if amount then
  redis.call('DECRBY', KEYS[2], amount)
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
end
redis.call('DECRBY', KEYS[1], ARGV[2])
redis.call('SET', KEYS[5], '1', 'EX', ARGV[3])
return 'settled'
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
