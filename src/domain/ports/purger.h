// Port: makes every cache in front of the stored bytes forget deleted objects (SPEC §5): the
// CDN (cdn/purge_queue: asynchronous, with retries) and the in-process file cache
// (cache/object_cache). purge() returns at once and never throws.
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
