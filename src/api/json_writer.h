// A small streaming JSON writer for responses. Boost.JSON prints doubles in exponent form
// (1.333E0); clients read aspectRatio and rates, so numbers are formatted here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace isvc::api {

class JsonWriter {
 public:
  JsonWriter() { out_.reserve(1024); }  // an image object is about 800 bytes: one allocation
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(int64_t n);
  JsonWriter& value(int n) { return value(static_cast<int64_t>(n)); }
  JsonWriter& value(bool b);
  JsonWriter& value_double(double d, int max_decimals);  // trailing zeros trimmed
  JsonWriter& null();
  // key + value shorthand
  template <class T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  std::string take() { return std::move(out_); }
  const std::string& str() const { return out_; }

 private:
  void comma();
  std::string out_;
  bool need_comma_ = false;
};

void append_json_string(std::string& out, std::string_view s);

}  // namespace isvc::api
