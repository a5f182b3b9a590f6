// `image-service backfill-placeholders`: gives the active records that have no placeholders
// (imports, migrated legacy rows, uploads from before placeholders) their ThumbHash and dominant
// colour, computed from their main image read back through the object store. Resumable by
// construction: a record that has them is skipped, so a stopped run continues where it stopped and
// a finished one leaves nothing for the next. A record edited meanwhile keeps the edit (versioned
// write) and is left for the next run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/ports/image_maintenance.h"
#include "domain/ports/image_processor.h"
#include "domain/ports/image_repository.h"
#include "domain/ports/object_store.h"

namespace isvc::domain {

struct BackfillOptions {
  bool dry_run = false;                   // compute, write nothing
  std::optional<int64_t> limit;           // look at most at this many records lacking them
  int64_t max_object_bytes = 64ll << 20;  // a larger main object is not read (counted as failed)
  std::size_t max_listed = 50;            // ids kept per finding for the report
};

struct BackfillReport {
  int64_t scanned = 0;    // records visited (any state)
  int64_t lacking = 0;    // active records without placeholders at the scan
  int64_t filled = 0;     // given placeholders (in a dry run: would have been)
  int64_t no_source = 0;  // their main object is missing (fsck reports these as dangling)
  int64_t failed = 0;     // the object is not an image this service decodes, or too large
  int64_t conflicts = 0;  // edited or deleted between read and write: the next run retries
  int64_t left = 0;       // not looked at because of the limit
  std::vector<std::string> failed_ids, no_source_ids;

  // Records this run looked at and could not finish (what makes the exit status 1).
  int64_t unresolved() const { return no_source + failed + conflicts; }
};

struct BackfillPorts {
  ImageRepository& images;        // reads and the versioned write (through the cache when one is)
  ImageMaintenance& maintenance;  // the scan
  ObjectStore& objects;
  ImageProcessor& processor;
};

BackfillReport run_placeholder_backfill(const BackfillPorts& ports, const BackfillOptions& options);

}  // namespace isvc::domain
