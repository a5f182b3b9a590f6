#include "cache/token_buckets.h"

#include <algorithm>
#include <cmath>

#include "domain/rate_limit.h"

namespace isvc::cache {

using domain::RateDecision;
using domain::RateWindow;

domain::RateDecision TokenBuckets::take(const std::string& key,
                                        const std::vector<domain::RateWindow>& windows,
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

}  // namespace isvc::cache
