// SPDX-License-Identifier: Apache-2.0

/// The Lua scripts that update shared state atomically on the Redis server. Loaded once per
/// connection (SCRIPT LOAD) and run with EVALSHA; a NOSCRIPT answer (SCRIPT FLUSH, a restarted
/// server) reloads them. Time is the server's (TIME), so routers on several hosts agree on it.
/// Numbers leave a script as strings: Redis truncates Lua numbers to integers.
///
/// Keys (`SharedKeys`): rate limit hash {r, t, ts, cd}; breaker hash {st (0 closed, 1 open,
/// 2 half_open), oa (opened at), oc (opened count), cf (consecutive failures), pf (probe
/// claimed at, 0 = none), a<i>/f<i> (attempts/failures of window bucket i)}; budget hash
/// {<bucket index>: spend}; cache string with a PX expiry, and the cache's index: a sorted set
/// of the cache keys scored by their expiry time (`cache-index`).
package enum SharedScripts {
    package enum Name: Int, CaseIterable, Sendable { case admit, settle, cacheGet, cachePut, view }

    package static func source(_ name: Name) -> String {
        switch name {
        case .admit: return prelude + admit
        case .settle: return prelude + settle
        case .cacheGet: return "return redis.call('GET', ARGV[1] .. 'cache:' .. redis.sha1hex(ARGV[2]))"
        case .cachePut: return cachePut
        case .view: return prelude + view
        }
    }

    /// Most entries one store removes beyond the bound: a store never holds the server for
    /// long, even after `max_entries` was lowered under a full cache (it shrinks over the next
    /// stores instead).
    package static let maxEvictionsPerStore = 128

    /// ARGV: prefix, request key, answer JSON, ttl ms, max entries (0 = unbounded). Stores the
    /// answer with its expiry and bounds the cache at max entries: the index scores each key by
    /// its expiry (so with one TTL, by the order they were stored); keys already expired leave
    /// it, then the soonest to expire go while there are more than max entries. The index
    /// expires with the latest entry.
    ///
    /// Scores are microseconds, written as integer strings: Lua would write a number with
    /// "%.14g" and drop the last digits. Stores pipelined together run within the same
    /// millisecond, and equal scores sort by key name, so a tie would evict an arbitrary entry:
    /// a score already taken moves to the next free microsecond (bounded: a year's TTL in µs is
    /// far below 2^53, where +1 would stop counting).
    private static let cachePut = """
    local tm = redis.call('TIME')
    local now = tonumber(tm[1]) * 1000000 + tonumber(tm[2])
    local key, index = ARGV[1] .. 'cache:' .. redis.sha1hex(ARGV[2]), ARGV[1] .. 'cache-index'
    local ttl, cap = tonumber(ARGV[4]) or 1, tonumber(ARGV[5]) or 0
    redis.call('SET', key, ARGV[3], 'PX', ttl)
    local due = string.format('%.0f', now + ttl * 1000)
    for _ = 1, 64 do
      if redis.call('ZCOUNT', index, due, due) == 0 then break end
      due = string.format('%.0f', tonumber(due) + 1)
    end
    redis.call('ZADD', index, due, key)
    redis.call('ZREMRANGEBYSCORE', index, '-inf', string.format('%.0f', now))
    if cap > 0 then
      local over = math.min(redis.call('ZCARD', index) - cap, \(maxEvictionsPerStore))
      if over > 0 then
        for _, old in ipairs(redis.call('ZRANGE', index, 0, over - 1)) do redis.call('DEL', old) end
        redis.call('ZREMRANGEBYRANK', index, 0, over - 1)
      end
    end
    if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
    return 1
    """

    /// Shared by admit and settle: the clock, the token-bucket refill, the budget window and
    /// the breaker's open → half_open step.
    private static let prelude = """
    local tm = redis.call('TIME')
    local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
    local function num(x, d) return tonumber(x) or d end
    local function fmt(x) return string.format('%.17g', x) end
    local function bucket(key, rpm, tpm)
      local v = redis.call('HMGET', key, 'r', 't', 'ts', 'cd')
      local b = {r = num(v[1], rpm), t = num(v[2], tpm), ts = num(v[3], now), cd = num(v[4], 0)}
      if now > b.ts then
        local e = now - b.ts
        if rpm > 0 then b.r = math.min(rpm, b.r + e * rpm / 60000) end
        if tpm > 0 then b.t = math.min(tpm, b.t + e * tpm / 60000) end
        b.ts = now
      end
      return b
    end
    local function save_bucket(key, b)
      redis.call('HSET', key, 'r', fmt(b.r), 't', fmt(b.t), 'ts', b.ts, 'cd', b.cd)
      redis.call('PEXPIRE', key, math.max(120000, b.cd - now + 60000))
    end
    local function spent(key, window, prune)
      if window <= 0 then return 0 end
      local width = window / 60
      local cur = math.floor(now / width)
      local all = redis.call('HGETALL', key)
      local sum = 0
      for i = 1, #all, 2 do
        local idx = tonumber(all[i])
        if idx and idx > cur - 60 then sum = sum + num(all[i + 1], 0)
        elseif prune then redis.call('HDEL', key, all[i]) end
      end
      return sum
    end
    local function advance(key, st, cooldown)
      if st.st == 1 and now >= st.oa + cooldown then
        st.st = 2; st.pf = 0
        redis.call('HSET', key, 'st', 2, 'pf', 0)
        return 'open>half_open'
      end
      return ''
    end
    local function breaker(key)
      local v = redis.call('HMGET', key, 'st', 'oa', 'pf', 'cf', 'oc')
      return {st = num(v[1], 0), oa = num(v[2], 0), pf = num(v[3], 0), cf = num(v[4], 0), oc = num(v[5], 0)}
    end

    """

    /// KEYS: rate limit, breaker, router budget, lane budget. ARGV: rpm, tpm, estimated tokens,
    /// breaker on (1/0), cooldown ms, router budget window ms, lane budget window ms (0 = none).
    /// Returns {verdict (0 ok, 1 circuit open, 2 probe in flight, 3 rate limited), wait ms,
    /// router spent, lane spent, breaker transition}.
    private static let admit = """
    local rpm, tpm, est = num(ARGV[1], 0), num(ARGV[2], 0), math.max(0, num(ARGV[3], 0))
    local cooldown = num(ARGV[5], 0)
    local rs, ls = fmt(spent(KEYS[3], num(ARGV[6], 0), false)), fmt(spent(KEYS[4], num(ARGV[7], 0), false))
    local claimed, change = false, ''
    if ARGV[4] == '1' then
      local st = breaker(KEYS[2])
      change = advance(KEYS[2], st, cooldown)
      if st.st == 1 then return {1, tostring(math.max(1, st.oa + cooldown - now)), rs, ls, change} end
      if st.st == 2 then
        -- A probe claimed longer than a cooldown ago belonged to a router that went away.
        if st.pf > 0 and now < st.pf + math.max(cooldown, 1000) then return {2, '0', rs, ls, change} end
        redis.call('HSET', KEYS[2], 'pf', now)
        claimed = true
      end
    end
    if rpm > 0 or tpm > 0 or redis.call('EXISTS', KEYS[1]) == 1 then
      local b = bucket(KEYS[1], rpm, tpm)
      local wait = 0
      if now < b.cd then wait = b.cd - now end
      if rpm > 0 and b.r + 1e-6 < 1 then wait = math.max(wait, math.ceil((1 - b.r) * 60000 / rpm)) end
      local need = math.min(est, tpm)
      if tpm > 0 and b.t + 1e-6 < need then wait = math.max(wait, math.ceil((need - b.t) * 60000 / tpm)) end
      if wait > 0 then
        if claimed then redis.call('HSET', KEYS[2], 'pf', 0) end
        save_bucket(KEYS[1], b)
        return {3, tostring(wait), rs, ls, change}
      end
      if rpm > 0 then b.r = b.r - 1 end
      if tpm > 0 then b.t = b.t - est end
      save_bucket(KEYS[1], b)
    end
    return {0, '0', rs, ls, change}
    """

    /// KEYS: as admit. ARGV: outcome ('s' success, 'f' counted failure, 'r' release, 'n' none),
    /// breaker on, consecutive_failures, failure_rate, min_requests, window ms, cooldown ms,
    /// rpm, tpm, estimated tokens, actual tokens (-1 = unknown), server cooldown ms (0 = none),
    /// router charge USD, router window ms, lane charge USD, lane window ms.
    /// Returns {router spent, lane spent ('' = no such budget), breaker transition ('' or
    /// 'old>new'), the breaker key, the lane budget key}.
    private static let settle = """
    local outcome = ARGV[1]
    local change = ''
    if ARGV[2] == '1' and outcome ~= 'n' then
      local key, threshold, rate, minreq = KEYS[2], num(ARGV[3], 0), num(ARGV[4], 0), num(ARGV[5], 1)
      local window, cooldown = math.max(1, num(ARGV[6], 60000)), num(ARGV[7], 0)
      local st = breaker(key)
      change = advance(key, st, cooldown)
      local width = window / 10
      local cur = math.floor(now / width)
      local function tally(failed)
        redis.call('HINCRBY', key, 'a' .. cur, 1)
        if failed then redis.call('HINCRBY', key, 'f' .. cur, 1) end
        local a, f = 0, 0
        local all = redis.call('HGETALL', key)
        for i = 1, #all, 2 do
          local kind, idx = string.sub(all[i], 1, 1), tonumber(string.sub(all[i], 2))
          if (kind == 'a' or kind == 'f') and idx then
            if idx <= cur - 10 then redis.call('HDEL', key, all[i])
            elseif kind == 'a' then a = a + num(all[i + 1], 0) else f = f + num(all[i + 1], 0) end
          end
        end
        return a, f
      end
      local function reset()
        local all = redis.call('HKEYS', key)
        for _, k in ipairs(all) do
          local kind = string.sub(k, 1, 1)
          if (kind == 'a' or kind == 'f') and tonumber(string.sub(k, 2)) then redis.call('HDEL', key, k) end
        end
        redis.call('HSET', key, 'cf', 0)
      end
      local function open(from)
        redis.call('HSET', key, 'st', 1, 'oa', now, 'oc', st.oc + 1, 'pf', 0)
        change = from .. '>open'
      end
      if outcome == 's' then
        if st.st == 0 then redis.call('HSET', key, 'cf', 0); tally(false)
        elseif st.st == 2 then reset(); redis.call('HSET', key, 'st', 0, 'pf', 0); change = 'half_open>closed' end
      elseif outcome == 'f' then
        if st.st == 0 then
          local cf = st.cf + 1
          redis.call('HSET', key, 'cf', cf)
          local a, f = tally(true)
          if (threshold > 0 and cf >= threshold) or (rate > 0 and a >= math.max(1, minreq) and f >= rate * a) then open('closed') end
        elseif st.st == 2 then open('half_open') end
      elseif outcome == 'r' then
        if st.st == 2 then redis.call('HSET', key, 'pf', 0) end
      end
      redis.call('PEXPIRE', key, window + cooldown + 60000)
    end
    local rpm, tpm, est, actual, wait = num(ARGV[8], 0), num(ARGV[9], 0), num(ARGV[10], 0), num(ARGV[11], -1), num(ARGV[12], 0)
    if (tpm > 0 and actual >= 0) or wait > 0 then
      local b = bucket(KEYS[1], rpm, tpm)
      if tpm > 0 and actual >= 0 then b.t = math.min(tpm, b.t - (actual - est)) end
      if wait > 0 then b.cd = math.max(b.cd, now + wait) end
      save_bucket(KEYS[1], b)
    end
    local function charge(key, usd, window)
      if window <= 0 then return '' end
      if usd > 0 then
        redis.call('HINCRBYFLOAT', key, math.floor(now / (window / 60)), fmt(usd))
        redis.call('PEXPIRE', key, math.ceil(window + window / 60) + 1000)
      end
      return fmt(spent(key, window, true))
    end
    local rs = charge(KEYS[3], num(ARGV[13], 0), num(ARGV[14], 0))
    local ls = charge(KEYS[4], num(ARGV[15], 0), num(ARGV[16], 0))
    return {rs, ls, change, KEYS[2], KEYS[4]}
    """

    /// Read-only, for health: the shared state as admission would see it now (nothing written).
    /// KEYS: n rate limit keys, then breaker keys. ARGV: n, then rpm and tpm per rate limit key,
    /// then window ms and cooldown ms per breaker key. Returns one array per key: rate limit
    /// {requests available, tokens available, cooldown ms left}; breaker {state (0 closed,
    /// 1 open, 2 half_open), consecutive failures, window attempts, window failures, opened
    /// count, ms until half-open (0 unless open)}.
    private static let view = """
    local n, out, arg = num(ARGV[1], 0), {}, 2
    for i = 1, #KEYS do
      local x, y = num(ARGV[arg], 0), num(ARGV[arg + 1], 0)
      arg = arg + 2
      if i <= n then
        local b = bucket(KEYS[i], x, y)
        out[i] = {fmt(b.r), fmt(b.t), tostring(math.max(0, b.cd - now))}
      else
        local window, cooldown = math.max(1, x), y
        local st = breaker(KEYS[i])
        if st.st == 1 and now >= st.oa + cooldown then st.st = 2 end
        local cur = math.floor(now / (window / 10))
        local a, f = 0, 0
        local all = redis.call('HGETALL', KEYS[i])
        for j = 1, #all, 2 do
          local kind, idx = string.sub(all[j], 1, 1), tonumber(string.sub(all[j], 2))
          if (kind == 'a' or kind == 'f') and idx and idx > cur - 10 then
            if kind == 'a' then a = a + num(all[j + 1], 0) else f = f + num(all[j + 1], 0) end
          end
        end
        local wait = 0
        if st.st == 1 then wait = math.max(1, st.oa + cooldown - now) end
        out[i] = {tostring(st.st), tostring(st.cf), tostring(a), tostring(f), tostring(st.oc), tostring(wait)}
      end
    end
    return out
    """
}
