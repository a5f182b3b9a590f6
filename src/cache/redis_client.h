// A small synchronous Redis client on hiredis: a pool of connections with connect/command
// timeouts, and a circuit breaker per use so that a Redis outage costs each use one timeout per
// second, not one per request. Callers treat every failure as "no cache" (the service keeps
// serving from the primary store); health pings on its own and reports Redis down and the
// service degraded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "obs/prometheus.h"

struct redisContext;

namespace isvc::cache {

// A reply reduced to what the service uses.
struct RedisReply {
  enum class Type { Nil, Int, String, Array, Status } type = Type::Nil;
  int64_t integer = 0;
  std::string str;
  std::vector<RedisReply> elements;
};

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;
  int db = 0;
};
// "redis://[:password@]host[:port][/db]" or "host[:port]"; throws std::invalid_argument.
RedisEndpoint parse_redis_endpoint(const std::string& text);

class RedisUse;

// How one use of Redis has fared (for /metrics).
struct RedisUseStatus {
  std::string name;
  bool circuit_open = false;
  bool last_ok = true;  // the last command's outcome; true before the first
  uint64_t ok = 0;
  uint64_t errors = 0;    // Redis answered with an error
  uint64_t failures = 0;  // unreachable, timed out, or the connection broke
  uint64_t skipped = 0;   // not sent: the use's circuit was open
};

// The connections. Failures are not remembered here: each RedisUse keeps its own.
class RedisClient final : public obs::MetricsSource {
 public:
  // breaker_ms: after a failure, each use skips its commands (treated as failed) for this long.
  explicit RedisClient(RedisEndpoint ep, int timeout_ms = 200, int breaker_ms = 1000,
                       int pool_size = 16);
  ~RedisClient();

  enum class Outcome { Ok, ErrorReply, Failed };
  // One command on a pooled connection; Failed when unreachable, timed out or broken.
  Outcome execute(const std::vector<std::string>& args, RedisReply& reply);

  // PING for health: no use's circuit is consulted or changed, so health sees recovery at once
  // and a failed ping switches no use off.
  bool ping();

  int breaker_ms() const { return int(breaker_.count()); }
  std::vector<RedisUseStatus> uses() const;
  // isvc_redis_commands_total, isvc_redis_circuit_open, isvc_redis_last_command_ok by use.
  void write_metrics(obs::TextWriter& w) const override;

 private:
  friend class RedisUse;
  redisContext* acquire();
  void release(redisContext* c, bool healthy);

  RedisEndpoint ep_;
  int timeout_ms_;
  std::chrono::milliseconds breaker_;
  int pool_size_;
  std::mutex mu_;
  std::vector<redisContext*> idle_;
  mutable std::mutex uses_mu_;
  std::vector<const RedisUse*> uses_;
};

// One use of Redis (the metadata cache, the rate limiter) with its own circuit breaker and
// failure flag: a failing rate-limit script does not make the cache skip Redis or think it lost
// a write, and a slow cache call does not make the limiter fall back.
class RedisUse {
 public:
  RedisUse(RedisClient& client, std::string name);
  ~RedisUse();
  RedisUse(const RedisUse&) = delete;
  RedisUse& operator=(const RedisUse&) = delete;

  // One command; nullopt when Redis is unreachable, timed out, answered with an error, or this
  // use's circuit is open after a recent failure.
  std::optional<RedisReply> command(const std::vector<std::string>& args);

  // True when a command of this use failed since the last call (and resets the flag): the cache
  // uses it to know that an invalidation may have been lost.
  bool take_failure_flag();

  RedisUseStatus status() const;

 private:
  RedisClient& client_;
  mutable std::mutex mu_;
  RedisUseStatus status_;
  std::chrono::steady_clock::time_point open_until_{};
  bool failed_ = false;
};

}  // namespace isvc::cache
