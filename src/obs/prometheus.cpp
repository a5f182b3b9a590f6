#include "obs/prometheus.h"

#include <charconv>
#include <cmath>

namespace isvc::obs {

CounterFamily::CounterFamily(std::string name, std::string help, std::vector<std::string> labels)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}

void CounterFamily::inc(const LabelValues& values, uint64_t by) {
  std::lock_guard lock(mu_);
  values_[values] += by;
}

std::map<LabelValues, uint64_t, LabelsLess> CounterFamily::snapshot() const {
  std::lock_guard lock(mu_);
  return values_;
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> labels, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      bounds_(std::move(bounds)) {}

namespace {
// The row of a family for these label values (any range of strings or views), made on first use.
template <class Map, class Labels>
typename Map::mapped_type& row_of(Map& m, const Labels& values) {
  auto it = m.find(values);
  if (it == m.end())
    it = m.emplace(LabelValues(values.begin(), values.end()), typename Map::mapped_type{}).first;
  return it->second;
}
}  // namespace

void CounterFamily::inc(LabelViews values, uint64_t by) {
  std::lock_guard lock(mu_);
  row_of(values_, values) += by;
}

void HistogramFamily::observe(const LabelValues& values, double v) {
  std::lock_guard lock(mu_);
  add(row_of(values_, values), v);
}

void HistogramFamily::observe(LabelViews values, double v) {
  std::lock_guard lock(mu_);
  add(row_of(values_, values), v);
}

void HistogramFamily::add(Data& d, double v) const {
  if (d.buckets.empty()) d.buckets.assign(bounds_.size(), 0);
  for (std::size_t i = 0; i < bounds_.size(); ++i)
    if (v <= bounds_[i]) ++d.buckets[i];
  d.sum += v;
  ++d.count;
}

std::map<LabelValues, HistogramFamily::Data, LabelsLess> HistogramFamily::snapshot() const {
  std::lock_guard lock(mu_);
  return values_;
}

std::vector<double> latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void TextWriter::header(std::string_view name, std::string_view help, std::string_view type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) out_ += c == '\n' ? ' ' : c;  // (backslashes do not occur in our texts)
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void TextWriter::sample(std::string_view name, const std::vector<std::string>& labels,
                        const LabelValues& values, std::string_view extra_label,
                        std::string_view extra_value, double v) {
  out_ += name;
  bool any = !labels.empty() || !extra_label.empty();
  if (any) {
    out_ += '{';
    bool first = true;
    for (std::size_t i = 0; i < labels.size() && i < values.size(); ++i) {
      if (!first) out_ += ',';
      first = false;
      out_ += labels[i] + "=\"" + escape_label_value(values[i]) + '"';
    }
    if (!extra_label.empty()) {
      if (!first) out_ += ',';
      out_ += std::string(extra_label) + "=\"" + std::string(extra_value) + '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_value(v);
  out_ += '\n';
}

void TextWriter::counter(const CounterFamily& f) {
  header(f.name(), f.help(), "counter");
  for (const auto& [values, n] : f.snapshot())
    sample(f.name(), f.labels(), values, "", "", double(n));
}

void TextWriter::histogram(const HistogramFamily& f) {
  header(f.name(), f.help(), "histogram");
  std::string bucket = f.name() + "_bucket", sum = f.name() + "_sum", count = f.name() + "_count";
  for (const auto& [values, d] : f.snapshot()) {
    for (std::size_t i = 0; i < f.bounds().size(); ++i)
      sample(bucket, f.labels(), values, "le", format_value(f.bounds()[i]), double(d.buckets[i]));
    sample(bucket, f.labels(), values, "le", "+Inf", double(d.count));
    sample(sum, f.labels(), values, "", "", d.sum);
    sample(count, f.labels(), values, "", "", double(d.count));
  }
}

void TextWriter::gauge(std::string_view name, std::string_view help, double value) {
  header(name, help, "gauge");
  sample(name, {}, {}, "", "", value);
}

void TextWriter::counter(std::string_view name, std::string_view help, double value) {
  header(name, help, "counter");
  sample(name, {}, {}, "", "", value);
}

void TextWriter::family(std::string_view name, std::string_view help, std::string_view type,
                        const std::vector<std::string>& labels,
                        const std::vector<std::pair<LabelValues, double>>& rows) {
  header(name, help, type);
  for (const auto& [values, v] : rows) sample(name, labels, values, "", "", v);
}

}  // namespace isvc::obs
