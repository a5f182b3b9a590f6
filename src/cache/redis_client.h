// A small synchronous Redis client on hiredis: a pool of connections with connect/command
// timeouts, and a circuit breaker so that a Redis outage costs one timeout per second, not one
// per request. Callers treat every failure as "no cache" (the service keeps serving from the
// primary store); health reports Redis down and the service degraded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

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

class RedisClient {
 public:
  // breaker_ms: after a failure, commands are skipped (treated as failed) for this long.
  explicit RedisClient(RedisEndpoint ep, int timeout_ms = 200, int breaker_ms = 1000,
                       int pool_size = 16);
  ~RedisClient();

  // One command; nullopt when Redis is unreachable, timed out, answered with an error, or the
  // circuit is open after a recent failure.
  std::optional<RedisReply> command(const std::vector<std::string>& args);

  // PING, bypassing the circuit breaker (health checks must see recovery).
  bool ping();

  // True when a command failed since the last call (and resets the flag): callers use it to know
  // that an invalidation may have been lost.
  bool take_failure_flag();

 private:
  redisContext* acquire(bool respect_breaker);
  void release(redisContext* c, bool healthy);
  std::optional<RedisReply> run(const std::vector<std::string>& args, bool respect_breaker);

  RedisEndpoint ep_;
  int timeout_ms_;
  std::chrono::milliseconds breaker_;
  int pool_size_;
  std::mutex mu_;
  std::vector<redisContext*> idle_;
  std::chrono::steady_clock::time_point open_until_{};
  bool failed_ = false;
};

}  // namespace isvc::cache
