// The request a thread is serving, for log lines written by code it is not passed to (GLib's
// messages during a header probe). Set for the duration of a use case, restored afterwards.
#pragma once

#include <string>

namespace isvc::obs {

class LogContext {
 public:
  explicit LogContext(std::string request_id);
  ~LogContext();
  LogContext(const LogContext&) = delete;
  LogContext& operator=(const LogContext&) = delete;

  // The innermost context's request id on this thread; empty when there is none.
  static const std::string& current();

 private:
  std::string request_id_;
  const LogContext* previous_;
};

}  // namespace isvc::obs
