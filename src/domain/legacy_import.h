// Legacy records (SPEC §8): the row shape of the monolith's `gallery_images`, its mapping to an
// ImageRecord, and the idempotent import used by dual-write (`POST /images` with JSON from a
// service token) and by `image-service migrate`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/image_record.h"
#include "domain/validation.h"
#include "storage/metadata_store.h"

namespace isvc::domain {

struct LegacyRecord {
  std::string id;  // UUID (or ULID)
  std::string user_id;
  std::optional<std::string> album_id;
  std::string original_filename;
  std::string mime_type;
  int64_t file_size = 0;
  std::optional<int64_t> width, height;
  std::string s3_key;
  std::optional<std::string> thumbnail_key;
  std::optional<std::string> title, description, alt_text;
  std::vector<std::string> tags;
  int64_t created_at_ms = 0;
  std::optional<int64_t> updated_at_ms;  // defaults to created_at_ms
};

const char* outcome_name(ImportOutcome o);  // "created", "updated", "unchanged"

// SPEC §8 mapping: ids kept, uploadedAt = createdAt, processingStatus completed, version 1, width
// and height 0 when unknown (aspectRatio 1), format from the MIME type, quality 0 (unknown).
// Throws Error::validation naming the offending field.
ImageRecord map_legacy(const LegacyRecord& l, const std::string& bucket,
                       const FieldLimits& limits = {});

// Idempotent by id: absent → inserted (Created); present and `rec` has a newer updatedAt →
// replaced with version + 1 (Updated); otherwise left as it is (Unchanged). Returns what is
// stored afterwards. A record in the middle of a delete is not resurrected: VERSION_MISMATCH.
std::pair<ImageRecord, ImportOutcome> import_record(storage::MetadataStore& store,
                                                    const ImageRecord& rec);

}  // namespace isvc::domain
