// Prometheus text exposition (format 0.0.4): labelled counters and histograms that are cheap to
// update from request threads, and a writer that renders them with HELP/TYPE lines and escaped
// label values, so that `promtool check metrics` finds nothing to say.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace isvc::obs {

using LabelValues = std::vector<std::string>;

// Orders label-value lists of strings and string_views alike, so that an update looks its row up
// from the caller's views without building a vector of strings (it builds one only for a new row).
struct LabelsLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};
using LabelViews = std::initializer_list<std::string_view>;

// Counters by label values (label names fixed per family).
class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> labels);
  void inc(const LabelValues& values, uint64_t by = 1);
  void inc(LabelViews values, uint64_t by = 1);
  std::map<LabelValues, uint64_t, LabelsLess> snapshot() const;
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labels() const { return labels_; }

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  mutable std::mutex mu_;
  std::map<LabelValues, uint64_t, LabelsLess> values_;
};

// Histograms (seconds) by label values, with fixed upper bounds.
class HistogramFamily {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> labels,
                  std::vector<double> bounds);
  void observe(const LabelValues& values, double v);
  void observe(LabelViews values, double v);
  struct Data {
    std::vector<uint64_t> buckets;  // cumulative counts per bound (the +Inf bucket is `count`)
    double sum = 0;
    uint64_t count = 0;
  };
  std::map<LabelValues, Data, LabelsLess> snapshot() const;
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labels() const { return labels_; }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  void add(Data& d, double v) const;
  std::map<LabelValues, Data, LabelsLess> values_;
};

// Latency buckets from 1 ms to 30 s.
std::vector<double> latency_buckets();

class TextWriter {
 public:
  void counter(const CounterFamily& f);
  void histogram(const HistogramFamily& f);
  // A family of one unlabelled sample.
  void gauge(std::string_view name, std::string_view help, double value);
  void counter(std::string_view name, std::string_view help, double value);
  // A gauge or counter family with labels: (label values, value) rows.
  void family(std::string_view name, std::string_view help, std::string_view type,
              const std::vector<std::string>& labels,
              const std::vector<std::pair<LabelValues, double>>& rows);
  std::string take() { return std::move(out_); }

 private:
  void header(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, const std::vector<std::string>& labels,
              const LabelValues& values, std::string_view extra_label, std::string_view extra_value,
              double v);
  std::string out_;
};

// Something that reports metrics families of its own into /metrics (an adapter's internals, such
// as the Redis client's uses), so the API renders them without knowing the adapter.
class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  virtual void write_metrics(TextWriter& w) const = 0;
};

std::string escape_label_value(std::string_view v);
std::string format_value(double v);  // shortest round-trip text, +Inf/-Inf/NaN spelled out

}  // namespace isvc::obs
