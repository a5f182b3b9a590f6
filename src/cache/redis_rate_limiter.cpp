#include "cache/redis_rate_limiter.h"

#include <cstdlib>

namespace isvc::cache {

namespace {

// KEYS: one bucket per window. ARGV: capacity and window (ms) per key. Returns
// {allowed (1|0), now_ms, tokens of each bucket after the request (as strings)}.
constexpr const char* kTakeScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tokens = {}
local ok = 1
for i = 1, #KEYS do
  local cap = tonumber(ARGV[2 * i - 1])
  local win = tonumber(ARGV[2 * i])
  local s = redis.call('HMGET', KEYS[i], 't', 'ts')
  local tk = tonumber(s[1])
  local ts = tonumber(s[2])
  if tk == nil or ts == nil then
    tk = cap
    ts = now
  end
  tk = math.min(cap, tk + math.max(0, now - ts) * cap / win)
  tokens[i] = tk
  if tk < 1 then ok = 0 end
end
local out = {ok, now}
for i = 1, #KEYS do
  if ok == 1 then tokens[i] = tokens[i] - 1 end
  redis.call('HSET', KEYS[i], 't', string.format('%.6f', tokens[i]), 'ts', now)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 * i]))
  out[#out + 1] = string.format('%.6f', tokens[i])
end
return out
)lua";

}  // namespace

RedisRateLimiter::RedisRateLimiter(RedisClient& redis, std::string key_namespace)
    : redis_(redis, "ratelimit"),
      prefix_(key_namespace.empty() ? "isvc:rl:" : "isvc:" + key_namespace + ":rl:") {}

domain::RateDecision RedisRateLimiter::take(const std::string& key,
                                            const std::vector<domain::RateWindow>& windows,
                                            int64_t now_ms) {
  std::vector<std::string> args{"EVAL", kTakeScript, std::to_string(windows.size())};
  // One hash slot per user and class (Redis Cluster: a script's keys must share it).
  for (const auto& w : windows)
    args.push_back(prefix_ + "{" + key + "}:" + std::to_string(w.limit) + "/" +
                   std::to_string(w.window_ms));
  for (const auto& w : windows) {
    args.push_back(std::to_string(w.limit));
    args.push_back(std::to_string(w.window_ms));
  }
  auto r = redis_.command(args);
  if (!r || r->type != RedisReply::Type::Array || r->elements.size() != 2 + windows.size())
    return fallback_.take(key, windows, now_ms);
  bool allowed = r->elements[0].integer == 1;
  std::vector<double> tokens;
  for (std::size_t i = 0; i < windows.size(); ++i)
    tokens.push_back(std::strtod(r->elements[2 + i].str.c_str(), nullptr));
  // Buckets refill on Redis's clock (one clock for all instances); the reset time the client
  // sees is stated on this instance's clock, like its Date header.
  return domain::decide(allowed, windows, tokens, now_ms);
}

}  // namespace isvc::cache
