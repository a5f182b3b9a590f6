#include "domain/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace isvc::domain {

const char* rate_class_name(RateClass c) {
  switch (c) {
    case RateClass::Upload:
      return "upload";
    case RateClass::Update:
      return "update";
    case RateClass::Delete:
      return "delete";
    case RateClass::Read:
      return "read";
    case RateClass::None:
      break;
  }
  return "none";
}

std::vector<RateWindow> RateLimitSettings::windows(RateClass c) const {
  switch (c) {
    case RateClass::Upload:
      return {{uploads_per_minute, 60'000}, {uploads_per_hour, 3'600'000}};
    case RateClass::Update:
      return {{updates_per_minute, 60'000}};
    case RateClass::Delete:
      return {{deletes_per_minute, 60'000}};
    case RateClass::Read:
      return {{reads_per_second, 1'000}};
    case RateClass::None:
      break;
  }
  return {};
}

namespace {
// Milliseconds until a bucket holding `tokens` reaches `target` tokens.
double ms_until(const RateWindow& w, double tokens, double target) {
  if (tokens >= target) return 0;
  return (target - tokens) * double(w.window_ms) / double(w.limit);
}
int64_t ceil_s(double ms) {
  return int64_t(std::ceil(ms / 1000.0 - 1e-9));
}
}  // namespace

RateDecision decide(bool allowed, const std::vector<RateWindow>& windows,
                    const std::vector<double>& tokens, int64_t now_ms) {
  RateDecision d;
  d.allowed = allowed;
  bool first = true;
  double retry_ms = 0;
  for (std::size_t i = 0; i < windows.size() && i < tokens.size(); ++i) {
    const auto& w = windows[i];
    double t = std::clamp(tokens[i], 0.0, double(w.limit));
    auto remaining = int64_t(std::floor(t + 1e-9));
    int64_t reset = ceil_s(double(now_ms) + ms_until(w, t, double(w.limit)));
    if (first || remaining < d.remaining || (remaining == d.remaining && reset > d.reset_epoch_s)) {
      d.limit = w.limit;
      d.remaining = remaining;
      d.reset_epoch_s = reset;
      first = false;
    }
    if (!allowed) retry_ms = std::max(retry_ms, ms_until(w, t, 1.0));
  }
  if (!allowed) {
    d.remaining = 0;
    d.retry_after_s = std::max<int64_t>(1, ceil_s(retry_ms));
  }
  return d;
}

}  // namespace isvc::domain
