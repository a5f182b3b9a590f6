#include "aws/request_counter.h"

#include <vector>

namespace isvc::aws {

void RequestCounter::add(std::string_view service, std::string_view action) {
  std::lock_guard lock(mu_);
  ++counts_[{std::string(service), std::string(action)}];
}

std::map<std::pair<std::string, std::string>, uint64_t> RequestCounter::snapshot() const {
  std::lock_guard lock(mu_);
  return counts_;
}

void RequestCounter::write_metrics(obs::TextWriter& w) const {
  std::vector<std::pair<obs::LabelValues, double>> rows;
  for (const auto& [key, n] : snapshot()) rows.push_back({{key.first, key.second}, double(n)});
  if (rows.empty()) return;
  w.family("isvc_engine_requests_total",
           "Requests sent to DynamoDB, S3 and CloudFront by service and API action, retries "
           "included (what AWS bills).",
           "counter", {"service", "action"}, rows);
}

}  // namespace isvc::aws
