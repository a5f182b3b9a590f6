// `image-service verify` (SPEC §8): legacy rows and service records compared record by record in
// both directions — present, userId, s3Key, thumbnailKey, originalFilename, title, description,
// altText, tags, albumId, createdAt — over everything, or (`--since 1h`, the hourly dual-write
// check) over what was created or updated recently on either side.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/ports/image_maintenance.h"
#include "domain/ports/image_repository.h"
#include "migrate/legacy_table.h"

namespace isvc::migrate {

struct Mismatch {
  std::string id;
  std::string kind;  // missing_in_service | missing_in_legacy | field
  std::string field, legacy, service;
};

struct VerifyReport {
  int64_t legacy_rows = 0;      // rows considered
  int64_t service_records = 0;  // active records considered
  int64_t compared = 0;         // ids present on both sides
  int64_t unmappable = 0;       // legacy rows migrate rejects (reported by migrate, not here)
  std::vector<Mismatch> mismatches;
  double seconds = 0;
};

VerifyReport run_verify(LegacyTable& legacy, domain::ImageRepository& images,
                        domain::ImageMaintenance& maintenance, std::optional<int64_t> since_ms);

std::string report_json(const VerifyReport& r);

}  // namespace isvc::migrate
