// The list cursor codec: decoding arbitrary text never crashes and fails only with
// InvalidCursor; whatever decodes must re-encode to a cursor that decodes to the same position
// (a forgery would need the HMAC key). Also a round trip of positions built from the input.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "domain/cursor_codec.h"
#include "domain/model/error.h"

using namespace isvc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const domain::CursorCodec codec("fuzz-cursor-secret");
  std::string_view in(reinterpret_cast<const char*>(data), size);
  domain::CursorScope scope{"alice", std::nullopt, std::nullopt, false};
  try {
    auto pos = codec.decode(in, scope);
    if (codec.decode(codec.encode(pos, scope), scope) != pos) std::abort();
  } catch (const domain::Error& e) {
    if (e.code() != domain::ErrorCode::InvalidCursor) std::abort();
  }
  // Round trip: any position (id and time from the input) under any scope comes back intact,
  // and is refused under another scope.
  if (size > 8) {  // ids are never empty
    domain::ListPosition pos;
    for (int i = 0; i < 8; ++i) pos.uploaded_at_ms = (pos.uploaded_at_ms << 8) | data[i];
    pos.id = std::string(in.substr(8, 40));
    domain::CursorScope s{std::string(in.substr(std::min<size_t>(size, 48))),
                          size % 2 ? std::optional<std::string>("album") : std::nullopt,
                          size % 3 ? std::optional<std::string>("tag") : std::nullopt,
                          size % 5 == 0};
    auto c = codec.encode(pos, s);
    if (codec.decode(c, s) != pos) std::abort();
    auto other = s;
    other.ascending = !other.ascending;
    try {
      codec.decode(c, other);
      std::abort();
    } catch (const domain::Error& e) {
      if (e.code() != domain::ErrorCode::InvalidCursor) std::abort();
    }
  }
  return 0;
}
