// Requests sent to AWS-protocol engines (DynamoDB, S3, CloudFront), by service and action, every
// attempt counted as AWS bills it: what each API operation costs in engine calls. The capacity
// model in docs/distributed.md is checked against these figures by the tests.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "obs/prometheus.h"

namespace isvc::aws {

class RequestCounter final : public obs::MetricsSource {
 public:
  void add(std::string_view service, std::string_view action);
  // (service, action) → requests sent.
  std::map<std::pair<std::string, std::string>, uint64_t> snapshot() const;
  void write_metrics(obs::TextWriter& w) const override;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> counts_;
};

}  // namespace isvc::aws
