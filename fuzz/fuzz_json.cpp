// JSON request bodies through the whole application: the first byte picks the endpoint
// (PATCH /images/{id} as the owner, the service's JSON import on POST /images, POST
// /images/uploads, the dev sign-in's POST /dev/token), the rest is the body. Every answer must be
// a 2xx/4xx with a well-formed body.
#include <cstdint>
#include <string>

#include "app_fixture.h"
#include "check_response.h"

using namespace isvc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& f = fuzz::AppFixture::instance();
  if (size == 0) return 0;
  http::Request req;
  switch (data[0] % 4) {
    case 0:
      req.method = "PATCH";
      req.target = std::string("/images/") + fuzz::AppFixture::kImageId;
      req.headers.emplace_back("Authorization", "Bearer " + f.user_token);
      break;
    case 1:
      req.method = "POST";
      req.target = "/images";
      req.headers.emplace_back("Authorization", "Bearer " + f.service_token);
      break;
    case 2:
      req.method = "POST";
      req.target = "/dev/token";
      break;
    default:
      req.method = "POST";
      req.target = "/images/uploads";
      req.headers.emplace_back("Authorization", "Bearer " + f.user_token);
      break;
  }
  req.headers.emplace_back("Content-Type", "application/json");
  req.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto res = f.handle(req);
  fuzz::check_response(req, res);
  return 0;
}
