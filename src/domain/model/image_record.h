// The image record: the one logical row every metadata store keeps, in the units the domain uses
// (times in Unix milliseconds). Rendering to the API's JSON shape happens in api/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/model/exif_facts.h"

namespace isvc::domain {

enum class ImageState {
  Active,    // visible to clients
  Deleting,  // a delete started and has not finished: hidden, the delete can be resumed
};

struct ImageRecord {
  std::string id;
  std::string user_id;
  std::optional<std::string> album_id;
  std::string original_filename;
  std::string mime_type;
  int64_t file_size = 0;       // bytes of the original upload
  int64_t processed_size = 0;  // bytes of the stored main WebP
  int64_t thumbnail_size = 0;  // bytes of the stored thumbnail (0 when unknown, e.g. legacy)
  int width = 0;               // upright original dimensions (0 when unknown)
  int height = 0;
  std::string s3_key;
  std::string s3_bucket;
  std::optional<std::string> thumbnail_key;
  std::string processing_status = "completed";
  std::optional<std::string> processing_error;
  std::string format = "webp";
  int quality = 85;
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::string> alt_text;
  std::vector<std::string> tags;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t uploaded_at_ms = 0;
  int64_t version = 1;
  ImageState state = ImageState::Active;
  // Placeholders (domain::Placeholders), of the bytes at s3_key: the ThumbHash in standard base64
  // (RFC 4648 §4, '=' padded) and "#rrggbb". None on records from before them (imports, legacy
  // rows) until `image-service backfill-placeholders` computes them.
  std::optional<std::string> thumbhash;
  std::optional<std::string> dominant_color;
  // The original's camera facts (domain/exif_bounds.h), none when it had no usable EXIF or the
  // record predates them; and the SHA-256 (lowercase hex) of the original upload's bytes, which
  // finds a user's duplicates. None on imports and records from before them.
  std::optional<ExifFacts> exif;
  std::optional<std::string> sha256;
  // The variant objects stored for this image, when its store keeps that list (DynamoDB, for
  // images uploaded by a build that keeps it; nullopt elsewhere): a delete removes exactly these
  // instead of listing the image's variant prefix. ImageRepository::note_variant adds to it
  // before a variant is stored; variant_rev counts those additions (a write that replaces the
  // record is conditional on it, so it never drops one).
  std::optional<std::vector<std::string>> variant_keys;
  int64_t variant_rev = 0;

  bool operator==(const ImageRecord&) const = default;
};

// What importing a record did (dual-write and migration): see domain/legacy_import.h. The two
// conflicts are what MetadataStore::import_batch reports for a record it refused (the one-record
// import throws IMAGE_OWNER_CONFLICT / OBJECT_KEY_CONFLICT instead).
enum class ImportOutcome { Created, Updated, Unchanged, OwnerConflict, KeyConflict };

// An import replaces a record with the legacy row, which has no placeholders: while the row still
// points at the same main image, the ones already computed stay (`next` takes them from `cur`).
void keep_placeholders(const ImageRecord& cur, ImageRecord& next);

// The key of sortBy=takenAt: when the photo was taken (domain::taken_at_ms), or for an image
// without it, when it was uploaded.
int64_t taken_sort_key(const ImageRecord& r);

// width/height rounded to 3 decimals; 1 when either is unknown.
double aspect_ratio(int width, int height);

}  // namespace isvc::domain
