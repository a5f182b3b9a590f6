// Port: sends one signed webhook request to a target and says what came of it. Adapter:
// webhooks/curl_transport (libcurl: the target's address checked and pinned, no redirects,
// bounded time and response).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace isvc::domain {

struct TransportResult {
  enum Kind {
    Delivered,  // a 2xx answer
    Failed,     // worth another try: no answer, a timeout, a non-2xx status
    Refused,    // never to be sent (a private address without the allow setting, a bad URL)
  } kind = Failed;
  int status = 0;      // the HTTP status when there was an answer
  std::string detail;  // why, for the log
};

class WebhookTransport {
 public:
  virtual ~WebhookTransport() = default;
  virtual TransportResult post(const std::string& url,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body) = 0;
};

}  // namespace isvc::domain
