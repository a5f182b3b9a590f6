// Port: new ids for images and uploads. Adapter: domain::UlidGenerator (domain/ulid.h).
#pragma once

#include <string>

namespace isvc::domain {

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual std::string next() = 0;  // thread-safe
};

}  // namespace isvc::domain
