// Between legacy rows and the service's records: the forward mapping of SPEC §8 (with the
// decisions for the JSONB `tags` column's non-array shapes) and the reverse one for rollback.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/legacy_import.h"
#include "domain/model/image_record.h"
#include "migrate/legacy_table.h"

namespace isvc::migrate {

// tags JSONB → list: an array gives its strings (other scalars as their JSON text, nested
// values refused); a string scalar is one tag; a number or boolean is one tag (its text); an
// object gives its string values in document order; null or absent gives none. nullopt with
// `why` set when the value cannot be read as tags.
std::optional<std::vector<std::string>> tags_from_jsonb(const std::optional<std::string>& json,
                                                        std::string& why);

// The row as a service record, or nullopt with the reason it cannot be mapped. Text the old
// system accepted arrives normalised instead of being refused: in title, altText,
// originalFilename and each tag every run of control characters becomes one space (trimmed);
// description keeps its newlines and tabs and loses only the other controls; invisible format
// characters are stripped everywhere (domain::strip_invisible). `normalized` (when given) gets
// the names of the fields that changed, comma-separated, or stays empty.
std::optional<domain::ImageRecord> map_row(const LegacyRow& row, const std::string& bucket,
                                           std::string& reject_reason,
                                           std::string* normalized = nullptr,
                                           const domain::ImportKeyPolicy& keys = {});

// The record as a legacy row (for `migrate --reverse`), or nullopt with the reason it cannot be
// stored there (the legacy columns are UUIDs: service-native ULIDs are written as the UUID with
// the same 128 bits; user and album ids that are not UUIDs cannot be represented).
std::optional<LegacyRow> to_row(const domain::ImageRecord& rec, std::string& why);

// The UUID text with the same 128 bits as a ULID ("01ARZ3NDEKTSV4RRFFQ69G5FAV" →
// "01563e3a-b5d3-d676-4c61-efb99302bd5b").
std::string ulid_to_uuid(const std::string& ulid);

}  // namespace isvc::migrate
