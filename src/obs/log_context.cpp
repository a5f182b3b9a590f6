#include "obs/log_context.h"

namespace isvc::obs {

namespace {
thread_local const LogContext* t_current = nullptr;
}  // namespace

LogContext::LogContext(std::string request_id)
    : request_id_(std::move(request_id)), previous_(t_current) {
  t_current = this;
}

LogContext::~LogContext() {
  t_current = previous_;
}

const std::string& LogContext::current() {
  static const std::string none;
  return t_current ? t_current->request_id_ : none;
}

}  // namespace isvc::obs
