// The operator subcommands that work on the stores: fsck, migrate (and --reverse), verify,
// backfill-placeholders.
// Each returns the process exit status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace isvc::app {

// "3600", "90s", "30m", "12h", "7d" → seconds; throws std::invalid_argument.
int64_t parse_duration_s(const std::string& text);

int fsck_command(bool repair, const std::string& grace, bool json);

struct MigrateArgs {
  std::string legacy_url;
  bool dry_run = false, reverse = false;
  std::optional<int64_t> limit;
  std::string since;  // duration back from now, or an ISO 8601 timestamp
  std::string checkpoint, rejects;
  int writers = 0, page_size = 1000;  // writers 0: 8 into DynamoDB, 1 into SQLite
  int batch_rows = 0;                 // 0: 10,000 into SQLite, one page into DynamoDB
  int progress_ms = 2000;             // plain progress lines this often (not on a terminal)
};
int migrate_command(const MigrateArgs& a);

int verify_command(const std::string& legacy_url, const std::string& since,
                   const std::string& report, bool json);

struct BackfillArgs {
  bool dry_run = false, json = false;
  std::optional<int64_t> limit;
};
int backfill_placeholders_command(const BackfillArgs& a);

}  // namespace isvc::app
