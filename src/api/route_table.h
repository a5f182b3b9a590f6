// The one route table: every endpoint once, with everything the service decides from a request's
// head (who may call it, its rate class, its body limit, whether it needs an upload slot, which
// lane serves it) and its metric label. Resolved once per request; nothing else re-derives
// routing from the path.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/rate_limit.h"
#include "http/message.h"

namespace isvc::api {

enum class AuthRule {
  None,             // public
  Bearer,           // any verified token (the use case checks ownership)
  Service,          // a verified token with the service role
  UploadSignature,  // the signed direct-upload URL is the credential
};

enum class BodyRule {
  None,       // small bodies only (64 KiB)
  Json,       // a JSON document (ApiSettings::json_body_limit)
  Multipart,  // an upload: the file part plus form fields and framing
  Raw,        // the bytes of a direct upload
};

enum class ContentRule { Any, Json, NotJson };  // Content-Type application/json or not

enum class AdmissionRule {
  None,
  Memory,      // its body counts against the memory budget
  Processing,  // also takes an upload slot (it will be decoded and encoded)
};

// Whether the request may be served on the I/O thread that read it, skipping the hand-off to the
// handler pool and back (most of a metadata read's CPU): only bodiless requests that cannot wait
// on the network.
enum class InlineRule {
  Never,       // may block on a backend: the handler pool
  Always,      // answered from memory (docs, gallery assets, preflight)
  LocalReads,  // reads the image repository only: inline when it and auth are local
};

struct Route {
  std::string method;   // GET routes also answer HEAD
  std::string pattern;  // "/images/{id}"; "{key+}" takes the rest of the path
  ContentRule content = ContentRule::Any;
  AuthRule auth = AuthRule::None;
  domain::RateClass rate = domain::RateClass::None;
  BodyRule body = BodyRule::None;
  AdmissionRule admission = AdmissionRule::None;
  bool probe = false;  // health and metrics: their own lane and the reserved connections
  InlineRule inline_rule = InlineRule::Never;
  std::function<http::Response(http::Request&)> handler;
  std::string label;  // for metrics: the pattern without "+"
};

struct RouteMatch {
  int index = -1;                   // the route, or -1
  std::vector<std::string> params;  // path parameters as they appear in the path (encoded)
  std::string allow;                // the path exists but not the method: its Allow header
};

class RouteTable {
 public:
  void add(Route r);
  RouteMatch match(std::string_view method, std::string_view path,
                   std::string_view content_type) const;
  const Route& at(int i) const { return routes_.at(static_cast<std::size_t>(i)).route; }
  std::size_t size() const { return routes_.size(); }

 private:
  struct Entry {
    Route route;
    std::vector<std::string> segments;  // "{x}" / "{x+}" mark parameters
    int literals = 0;
  };
  std::vector<Entry> routes_;
};

}  // namespace isvc::api
