// The object-key layout (SPEC §2, §12), defined once: where an image's main object, thumbnail and
// a direct upload's temporary object live, how a user id appears in a key, and which keys any
// object store accepts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace isvc::domain {

// Object-key-safe form of a user id (SPEC §12 Keys): [A-Za-z0-9._-] kept, any other byte
// percent-encoded (%XX upper-case), and "." / ".." as a whole id encoded too.
std::string encode_user_id_for_key(std::string_view user_id);
// "images/{encoded user id}/": the folder of the user's processed images. Nobody else's record
// may point into it (an import is refused), so its keys need no ownership claim.
std::string user_key_prefix(std::string_view user_id);
std::string main_object_key(std::string_view user_id, std::string_view image_id);
std::string thumbnail_object_key(std::string_view user_id, std::string_view image_id);
// "images/{user}/variants/{imageId}/": an image's responsive variants (issue 13), one object per
// configured width and format, "{width}.webp" / "{width}.avif".
std::string variant_prefix(std::string_view user_id, std::string_view image_id);
std::string variant_object_key(std::string_view user_id, std::string_view image_id, int width,
                               std::string_view extension);
// The parts of a variant key, as they appear in it (the user id encoded); nullopt for any other
// key. Only the shape is checked: whether such a variant exists is the use case's business.
struct VariantKey {
  std::string encoded_user, image_id, extension;
  int width = 0;
};
std::optional<VariantKey> parse_variant_key(std::string_view key);
// "temp/{uploadId}": where a direct upload's bytes wait for its complete call.
std::string temp_object_key(std::string_view upload_id);
// Keys delivered by GET /files/{key}: the processed images, "images/…".
bool is_image_key(std::string_view key);

// Keys every object store accepts: a relative path of 1..1024 bytes made of non-empty segments,
// none of them `.` or `..`, without backslashes or control bytes. Anything else is refused (and a
// stored record that names such a key points at nothing).
bool valid_object_key(std::string_view key);

}  // namespace isvc::domain
