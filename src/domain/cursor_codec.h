// Opaque, URL-safe, signed list cursors (SPEC §2 List, §12 Cursors). A cursor carries the list
// position and is bound by HMAC to the caller, albumId, tag and sortOrder: any change, forgery,
// truncation or garbage → domain::Error(InvalidCursor). `limit` is not bound. sortBy and
// duplicatesOf are bound too (a cursor of one sort or listing is refused by another).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/ports/metadata_backend.h"

namespace isvc::domain {

struct CursorScope {
  std::string user_id;
  std::optional<std::string> album_id;
  std::optional<std::string> tag;
  bool ascending = false;
  SortBy sort_by = SortBy::UploadedAt;
  std::optional<std::string> duplicates_of = std::nullopt;  // GET /images?duplicatesOf=: its id
};

class CursorCodec {
 public:
  explicit CursorCodec(std::string secret) : secret_(std::move(secret)) {}
  std::string encode(const domain::ListPosition& pos, const CursorScope& scope) const;
  // Throws Error(InvalidCursor) on anything that was not produced by encode() with this scope.
  domain::ListPosition decode(std::string_view cursor, const CursorScope& scope) const;

 private:
  std::string secret_;
};

}  // namespace isvc::domain
