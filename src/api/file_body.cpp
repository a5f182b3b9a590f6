#include "api/file_body.h"

#include <cstring>

#include "domain/model/error.h"

namespace isvc::api {

std::size_t CachedBody::read(uint64_t offset, char* dst, std::size_t max) {
  std::string_view v(*bytes_);
  if (offset >= v.size()) return 0;
  std::size_t n = std::min<std::size_t>(max, v.size() - offset);
  std::memcpy(dst, v.data() + offset, n);
  return n;
}

std::string read_whole(domain::ObjectReader& reader, int64_t size) {
  if (auto* b = reader.bytes()) {
    if (static_cast<int64_t>(b->size()) != size)
      throw domain::Error(domain::ErrorCode::StorageFailed, "object size changed while read");
    return *b;
  }
  std::string out(static_cast<std::size_t>(size), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    std::size_t n = reader.read(static_cast<int64_t>(done), out.data() + done, out.size() - done);
    if (n == 0)
      throw domain::Error(domain::ErrorCode::StorageFailed, "object ended before its size");
    done += n;
  }
  return out;
}

}  // namespace isvc::api
