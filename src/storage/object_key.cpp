#include "storage/object_store.h"

namespace isvc::storage {

bool valid_object_key(std::string_view key) {
  if (key.empty() || key.size() > 1024 || key.front() == '/') return false;
  std::size_t start = 0;
  while (true) {
    auto slash = key.find('/', start);
    auto seg =
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (char c : seg) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f || c == '\\') return false;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace isvc::storage
