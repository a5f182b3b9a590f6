#include "obs/metrics.h"

#include <algorithm>
#include <cmath>

namespace isvc::obs {

void LatencyWindow::record(double ms) {
  std::lock_guard lock(mu_);
  if (ring_.size() < kWindow) {
    ring_.push_back(ms);
  } else {
    ring_[next_] = ms;
    next_ = (next_ + 1) % kWindow;
  }
  ++count_;
  total_ += ms;
}

double LatencyWindow::mean_ms() const {
  std::lock_guard lock(mu_);
  return count_ ? total_ / double(count_) : 0.0;
}

double LatencyWindow::percentile_ms(double p) const {
  std::vector<double> copy;
  {
    std::lock_guard lock(mu_);
    copy = ring_;
  }
  if (copy.empty()) return 0.0;
  // Nearest-rank percentile over the window.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * double(copy.size())));
  rank = std::clamp<std::size_t>(rank, 1, copy.size());
  std::nth_element(copy.begin(), copy.begin() + long(rank - 1), copy.end());
  return copy[rank - 1];
}

uint64_t LatencyWindow::count() const {
  std::lock_guard lock(mu_);
  return count_;
}

double ServiceMetrics::file_cache_hit_rate() const {
  double h = double(file_cache_hits.load()), m = double(file_cache_misses.load());
  return h + m > 0 ? h / (h + m) : 0.0;
}

}  // namespace isvc::obs
