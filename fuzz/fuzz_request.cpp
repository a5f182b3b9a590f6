// Query strings and whole requests through the application. First byte even: GET /images?<rest>
// as a user (limit, cursor, albumId, tag, sortOrder…). Odd: the rest is a raw request — method,
// target, headers (Authorization "@user"/"@admin"/"@service" become valid tokens), blank line,
// body — reaching every route, path parameter and header parser (Range, If-None-Match, Origin,
// Idempotency-Key…). Every answer must be a 2xx/3xx/4xx with a well-formed error body.
#include <cstdint>
#include <string>
#include <string_view>

#include "app_fixture.h"
#include "check_response.h"

using namespace isvc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& f = fuzz::AppFixture::instance();
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  http::Request req;
  if (data[0] % 2 == 0) {
    req.method = "GET";
    req.target = "/images?" + std::string(rest);
    req.headers.emplace_back("Authorization", "Bearer " + f.user_token);
  } else {
    req = fuzz::parse_raw_request(rest, f);
  }
  auto res = f.handle(req);
  fuzz::check_response(req, res);
  return 0;
}
