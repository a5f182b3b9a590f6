// `image-service migrate` (SPEC §8): legacy rows → the configured metadata store, page by page
// in (created_at, id) order, several writers in flight, a checkpoint after every page so a
// killed run resumes, a reject report for rows that cannot be mapped or would take another
// user's image or objects, a report of the rows whose text was normalised, progress on a terminal
// (bar, rows/s, ETA) or as periodic lines; and `--reverse`, the rollback into the legacy table.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "domain/legacy_import.h"
#include "domain/ports/image_maintenance.h"
#include "migrate/legacy_table.h"

namespace isvc::migrate {

struct MigrateOptions {
  bool dry_run = false;
  std::optional<int64_t> limit;     // at most this many rows read (this run)
  std::optional<int64_t> since_ms;  // only rows created or updated since
  std::string checkpoint_path;      // resume state; removed when a run completes
  std::string rejects_path;         // one JSON object per rejected row
  std::string normalized_path;      // one JSON object per row whose text was normalised
  domain::ImportKeyPolicy keys;     // IMPORT_KEY_PREFIXES
  int page_size = 1000;
  int writers = 8;
  // Rows per store write (SQLite: per transaction), made of whole pages; never fewer than a page.
  // A write is also kept to about a second (the service's own writers wait for it).
  int64_t batch_rows = 0;
  bool tty = false;  // a live progress bar instead of periodic lines
  int progress_every_ms = 2000;
  // Called after each written batch with what the store did (the wiring points it at the Redis
  // cache, which the maintenance port does not pass through).
  std::function<void(const std::vector<domain::ImageRecord>&,
                     const std::vector<domain::ImportOutcome>&)>
      after_import;
};

struct MigrateSummary {
  int64_t read = 0, created = 0, updated = 0, unchanged = 0, rejected = 0;
  int64_t normalized = 0;  // stored with control characters replaced (legacy_mapping.h)
  int64_t counter_fixes = 0;
  double seconds = 0;
  bool resumed = false;
  int64_t written() const { return created + updated; }
};

MigrateSummary run_migration(LegacyTable& legacy, domain::ImageMaintenance& store,
                             const std::string& bucket, const MigrateOptions& o,
                             std::ostream& progress);

struct ReverseSummary {
  int64_t scanned = 0, written = 0, skipped = 0;
  double seconds = 0;
};

// Upserts every active record into the legacy table (rollback after cutover). Records whose ids
// the legacy columns cannot hold are skipped and listed on `progress`.
ReverseSummary run_reverse(LegacyTable& legacy, domain::ImageMaintenance& store, bool dry_run,
                           std::ostream& progress);

}  // namespace isvc::migrate
