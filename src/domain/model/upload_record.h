// A started direct-to-storage upload (SPEC §2): who may complete it, what the client said it
// would send, and the fields the image gets. Kept as a temporary record in the metadata store
// until it is completed or expires (24 h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace isvc::domain {

struct UploadRecord {
  std::string id;  // ULID; the bytes go to temp/{id}
  std::string user_id;
  std::string filename;
  std::string content_type;
  int64_t content_length = 0;
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::string> alt_text;
  std::optional<std::string> album_id;
  std::vector<std::string> tags;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;                      // the record (and temp object) lapse here
  std::optional<std::string> completed_image_id;  // set once complete succeeded

  bool operator==(const UploadRecord&) const = default;

  // The client-chosen fields as one JSON document (how the stores keep them).
  std::string fields_json() const;
  // Fills the client-chosen fields from fields_json(); false when the text is not such a document.
  bool read_fields_json(const std::string& text);
};

}  // namespace isvc::domain
