// The multipart/form-data parser: the first line is the Content-Type header value, the rest the
// body. Properties: never crashes; every part's data lies inside the body; a parse either
// throws domain::Error or returns at most max_parts parts.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "domain/model/error.h"
#include "http/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nl = in.find('\n');
  std::string_view content_type = in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  auto boundary = isvc::http::multipart_boundary(content_type);
  if (!boundary) return 0;
  if (boundary->empty() || boundary->size() > 70) std::abort();
  isvc::http::MultipartLimits limits;
  limits.max_parts = 8;
  try {
    auto parts = isvc::http::parse_multipart(body, *boundary, limits);
    if (parts.size() > limits.max_parts) std::abort();
    for (const auto& p : parts) {
      if (p.data.data() < body.data() || p.data.data() + p.data.size() > body.data() + body.size())
        std::abort();
    }
  } catch (const isvc::domain::Error&) {
  }
  return 0;
}
