// Port: asks the CDN to forget stored objects (SPEC §5, on delete). Asynchronous: purge() queues
// the keys and returns at once; delivery and retries are the adapter's business.
#pragma once

#include <string>
#include <vector>

namespace isvc::domain {

class Purger {
 public:
  virtual ~Purger() = default;
  virtual void purge(std::vector<std::string> object_keys) = 0;  // never throws
};

}  // namespace isvc::domain
