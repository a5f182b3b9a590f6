// Legacy records (SPEC §8): the row shape of the monolith's `gallery_images`, its mapping to an
// ImageRecord, and the idempotent import used by dual-write (`POST /images` with JSON from a
// service token) and by `image-service migrate`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/model/image_record.h"
#include "domain/ports/image_repository.h"
#include "domain/validation.h"
#include "domain/webhook_events.h"

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

// "created", "updated", "unchanged", "owner_conflict", "key_conflict"
const char* outcome_name(ImportOutcome o);

// Where imported records may point (IMPORT_KEY_PREFIXES): when `allowed_prefixes` is not empty,
// every s3Key/thumbnailKey must start with one of them, `{userId}` standing for the record's
// user id as it appears in object keys (encode_user_id_for_key).
struct ImportKeyPolicy {
  std::vector<std::string> allowed_prefixes;
};

// The object-key rules of an import (the keys point at objects the legacy system wrote): at most
// 500 code points and 1024 bytes; no leading '/', no empty, '.' or '..' segment, no backslash,
// no control byte, no scheme (':' in the first segment: "http://…", "c:…", "javascript:…"); not
// in the service's own namespaces unless it is the owner's: never temp/…, images/{user}/… only
// for that user. Throws Error::validation(field, …).
void validate_import_key(const std::string& field, std::string_view key, const std::string& user_id,
                         const ImportKeyPolicy& policy = {});

// SPEC §8 mapping: ids kept, uploadedAt = createdAt, processingStatus completed, version 1, width
// and height 0 when unknown (aspectRatio 1), format from the MIME type, quality 0 (unknown).
// Display fields lose invisible format characters (strip_invisible). Throws Error::validation
// naming the offending field.
ImageRecord map_legacy(const LegacyRecord& l, const std::string& bucket,
                       const FieldLimits& limits = {}, const ImportKeyPolicy& keys = {});

// Idempotent by id: absent → inserted (Created); present and `rec` has a newer updatedAt →
// replaced with version + 1 (Updated); otherwise left as it is (Unchanged). Returns what is
// stored afterwards. Never changes an image's owner: an id another user's image has →
// IMAGE_OWNER_CONFLICT (whatever its state or updatedAt). Keys another user's image uses →
// OBJECT_KEY_CONFLICT (from the store). A record in the middle of a delete is not resurrected:
// VERSION_MISMATCH.
// With `events`, a created or updated record records image.created / image.updated with itself.
std::pair<ImageRecord, ImportOutcome> import_record(ImageRepository& store, const ImageRecord& rec,
                                                    const WebhookEvents* events = nullptr);

}  // namespace isvc::domain
