// The legacy PostgreSQL table `gallery_images` (SPEC §8) through libpqxx: keyset-paginated
// reads in (created_at, id) order, counts, and upserts for the rollback (`migrate --reverse`).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace isvc::migrate {

// One row as stored, with nullable columns kept nullable and tags as JSON text.
struct LegacyRow {
  std::string id, user_id;
  std::optional<std::string> album_id;
  std::string original_filename, mime_type;
  int64_t file_size = 0;
  std::optional<int64_t> width, height;
  std::string s3_key;
  std::optional<std::string> thumbnail_key, title, description, alt_text, tags_json;
  std::optional<int64_t> created_at_ms, updated_at_ms;
  std::string created_at_key;  // created_at exactly as PostgreSQL orders it (keyset position)
};

struct KeysetPosition {
  std::string created_at;  // PostgreSQL text form, microseconds kept
  std::string id;
};

class LegacyTable {
 public:
  explicit LegacyTable(const std::string& url);  // throws std::runtime_error naming the problem
  ~LegacyTable();

  // Rows strictly after `after` in (created_at, id) order; `since_ms` keeps only rows created or
  // updated at or after that time.
  std::vector<LegacyRow> page(const std::optional<KeysetPosition>& after,
                              std::optional<int64_t> since_ms, int limit);
  int64_t count(std::optional<int64_t> since_ms);
  // The rows with these ids (UUID text); ids that are not UUIDs are not looked up.
  std::vector<LegacyRow> by_ids(const std::vector<std::string>& ids);

  // INSERT … ON CONFLICT (id) DO UPDATE for every row, in one transaction.
  void upsert(const std::vector<LegacyRow>& rows);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace isvc::migrate
