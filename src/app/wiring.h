// Small pieces of wiring: the health of the backends that are not stores (Redis, the CDN purge
// queue) as BackendHealth, and the fan-out of purges to every cache in front of the bytes.
#pragma once

#include <string>
#include <vector>

#include "cache/redis_client.h"
#include "cdn/purge_queue.h"
#include "domain/ports/backend_health.h"
#include "domain/ports/purger.h"

namespace isvc::app {

class RedisHealth final : public domain::BackendHealth {
 public:
  explicit RedisHealth(cache::RedisClient& redis) : redis_(redis) {}
  std::string name() const override { return "redis"; }
  bool healthy() override { return redis_.ping(); }

 private:
  cache::RedisClient& redis_;
};

// The CDN is "down" while purges to it are being given up on (deleted files may stay cached).
class CdnHealth final : public domain::BackendHealth {
 public:
  explicit CdnHealth(const cdn::PurgeQueue& queue) : queue_(queue) {}
  std::string name() const override { return "cdn"; }
  bool healthy() override { return queue_.last_ok(); }

 private:
  const cdn::PurgeQueue& queue_;
};

class PurgeFanout final : public domain::Purger {
 public:
  void add(domain::Purger* p) {
    if (p) targets_.push_back(p);
  }
  void purge(std::vector<std::string> keys) override {
    for (auto* t : targets_) t->purge(keys);
  }

 private:
  std::vector<domain::Purger*> targets_;
};

}  // namespace isvc::app
