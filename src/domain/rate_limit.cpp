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

RateDecision TokenBuckets::take(const std::string& key, const std::vector<RateWindow>& windows,
                                int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (buckets_.size() >= max_keys_) sweep(now_ms);
  auto& bs = buckets_[key];
  if (bs.size() != windows.size()) {
    bs.assign(windows.size(), Bucket{});
    for (std::size_t i = 0; i < windows.size(); ++i)
      bs[i] = {double(windows[i].limit), now_ms, windows[i].limit, windows[i].window_ms};
  }
  bool allowed = true;
  for (std::size_t i = 0; i < bs.size(); ++i) {
    auto& b = bs[i];
    const auto& w = windows[i];
    double elapsed = double(std::max<int64_t>(0, now_ms - b.at_ms));
    b.tokens =
        std::min(double(w.limit), b.tokens + elapsed * double(w.limit) / double(w.window_ms));
    b.at_ms = std::max(b.at_ms, now_ms);
    b.limit = w.limit;
    b.window_ms = w.window_ms;
    if (b.tokens < 1.0) allowed = false;
  }
  std::vector<double> tokens;
  for (auto& b : bs) {
    if (allowed) b.tokens -= 1.0;
    tokens.push_back(b.tokens);
  }
  return decide(allowed, windows, tokens, now_ms);
}

void TokenBuckets::sweep(int64_t now_ms) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    bool full = true;
    for (const auto& b : it->second) {
      double elapsed = double(std::max<int64_t>(0, now_ms - b.at_ms));
      if (b.tokens + elapsed * double(b.limit) / double(b.window_ms) < double(b.limit))
        full = false;
    }
    it = full ? buckets_.erase(it) : std::next(it);
  }
}

std::size_t TokenBuckets::size() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace isvc::domain
