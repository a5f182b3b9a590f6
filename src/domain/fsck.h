// `image-service fsck` (SPEC §6): finds objects without metadata (orphans), metadata without
// objects (dangling), deletes that stopped half-way, lapsed direct uploads, counter drift and
// objects that records of several users point at (shared keys, left by imports before the
// ownership checks: a human decides whose they are); with
// repair, removes orphans older than the grace period, finishes pending deletes, removes lapsed
// uploads and corrects counters. Dangling records are only reported: their bytes are gone and an
// operator decides what to tell the owner. Safe while the service runs: every candidate is checked
// again right before it is reported or removed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/ports/clock.h"
#include "domain/ports/image_maintenance.h"
#include "domain/ports/image_repository.h"
#include "domain/ports/object_store.h"
#include "domain/ports/upload_repository.h"

namespace isvc::domain {

struct FsckOptions {
  bool repair = false;
  int64_t grace_ms = 3600 * 1000;            // younger orphans may be uploads in flight
  int64_t upload_ttl_ms = 24 * 3600 * 1000;  // temp/ objects older than this have lapsed
  std::size_t max_listed = 50;               // examples kept per finding for the report
};

struct FsckReport {
  int64_t checked = 0;          // metadata records examined
  int64_t objects = 0;          // objects examined under images/
  int64_t orphans = 0;          // objects older than the grace period that no record refers to
  int64_t dangling = 0;         // active records whose main image or thumbnail is missing
  int64_t pending_deletes = 0;  // records left in state "deleting"
  int64_t lapsed_uploads = 0;   // temp/ objects older than the upload TTL
  int64_t counter_drift = 0;    // counter cells that disagreed with the records
  int64_t shared_keys = 0;      // objects that images of more than one user point at
  int64_t repaired = 0;         // findings fixed by this run
  std::vector<std::string> orphan_keys, dangling_ids, shared_key_list;

  // Problems left after this run (what makes the exit status 1).
  int64_t unresolved() const {
    return orphans + dangling + pending_deletes + lapsed_uploads + counter_drift + shared_keys -
           repaired;
  }
};

// What fsck reads and repairs. `images` removes finished deletes (through the cache when there is
// one); `maintenance` scans and checks the counters.
struct FsckPorts {
  ImageRepository& images;
  ImageMaintenance& maintenance;
  UploadRepository& uploads;
  ObjectStore& objects;
};

FsckReport run_fsck(const FsckPorts& ports, const Clock& clock, const FsckOptions& options);

}  // namespace isvc::domain
