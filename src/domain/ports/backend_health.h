// Port: a backend's name for /health and /metrics ("sqlite", "dynamodb", "filesystem", "s3",
// "redis", "cdn") and a cheap liveness probe. Every store, the Redis client and the CDN purge
// queue implement it.
#pragma once

#include <string>

namespace isvc::domain {

class BackendHealth {
 public:
  virtual ~BackendHealth() = default;
  virtual std::string name() const = 0;
  virtual bool healthy() = 0;
};

}  // namespace isvc::domain
