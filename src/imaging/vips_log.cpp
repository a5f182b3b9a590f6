#include "imaging/vips_log.h"

#include <glib.h>
#include <pthread.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "obs/log_context.h"

namespace isvc::imaging {

namespace {

// The writer may run on any thread at any time, including while serve() tears down: the logger
// pointer is only used under the shared lock, and detaching takes the exclusive one.
std::shared_mutex g_logger_mu;
const obs::Logger* g_logger = nullptr;

std::mutex g_jobs_mu;
std::vector<const ProcessingJob*> g_jobs;  // in start order

thread_local const ProcessingJob* t_job = nullptr;

// libvips names the threads of its pool (threadset.c); pthread names are at most 15 bytes.
bool on_libvips_worker() {
  char name[16] = {};
  return pthread_getname_np(pthread_self(), name, sizeof name) == 0 &&
         std::strcmp(name, "libvips worker") == 0;
}

void attribute(boost::json::object& f) {
  if (t_job) {
    if (!t_job->request_id().empty()) f["requestId"] = t_job->request_id();
    return;
  }
  // A thread serving a request (the upload's header probe runs on it, before any job).
  if (const std::string& id = obs::LogContext::current(); !id.empty()) {
    f["requestId"] = id;
    return;
  }
  // Any other thread (a client library, a janitor) is not a job's: its messages are not guessed
  // onto an upload.
  if (!on_libvips_worker()) return;
  std::lock_guard lk(g_jobs_mu);
  if (g_jobs.size() == 1) {
    if (!g_jobs.front()->request_id().empty()) f["requestId"] = g_jobs.front()->request_id();
  } else if (g_jobs.size() > 1) {
    boost::json::array ids;
    for (const ProcessingJob* j : g_jobs)
      if (!j->request_id().empty()) ids.emplace_back(j->request_id());
    f["requestIdCandidates"] = std::move(ids);
  }
}

std::string valid_utf8(std::string_view s) {
  gchar* v = g_utf8_make_valid(s.data(), static_cast<gssize>(s.size()));
  std::string out(v);
  g_free(v);
  return out;
}

obs::Level level_of(GLogLevelFlags l) {
  if (l & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) return obs::Level::Error;
  if (l & G_LOG_LEVEL_WARNING) return obs::Level::Warn;
  if (l & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) return obs::Level::Info;
  return obs::Level::Debug;
}

const char* glib_level_name(GLogLevelFlags l) {
  if (l & G_LOG_LEVEL_ERROR) return "error";
  if (l & G_LOG_LEVEL_CRITICAL) return "critical";
  if (l & G_LOG_LEVEL_WARNING) return "warning";
  if (l & G_LOG_LEVEL_MESSAGE) return "message";
  if (l & G_LOG_LEVEL_INFO) return "info";
  return "debug";
}

GLogWriterOutput write_message(GLogLevelFlags level, const GLogField* fields, gsize n, gpointer) {
  std::string domain;
  std::string_view message;
  for (gsize i = 0; i < n; ++i) {
    const auto* v = static_cast<const char*>(fields[i].value);
    if (!v) continue;
    std::size_t len = fields[i].length < 0 ? std::strlen(v) : std::size_t(fields[i].length);
    if (std::strcmp(fields[i].key, "MESSAGE") == 0)
      message = {v, len};
    else if (std::strcmp(fields[i].key, "GLIB_DOMAIN") == 0)
      domain.assign(v, len);
  }
  // Debug and info messages stay off unless G_MESSAGES_DEBUG asks for them, as with GLib's own
  // writer.
  if (g_log_writer_default_would_drop(level, domain.empty() ? nullptr : domain.c_str()))
    return G_LOG_WRITER_HANDLED;
  std::shared_lock lk(g_logger_mu);
  if (!g_logger) {
    lk.unlock();
    return g_log_writer_default(level, fields, n, nullptr);
  }
  boost::json::object f;
  f["glibLevel"] = glib_level_name(level);
  f["domain"] = valid_utf8(domain);
  f["message"] = valid_utf8(message);
  attribute(f);
  g_logger->log(level_of(level), "vips_message", std::move(f));
  return G_LOG_WRITER_HANDLED;
}

}  // namespace

void install_glib_writer() {
  static std::once_flag once;
  std::call_once(once, [] { g_log_set_writer_func(write_message, nullptr, nullptr); });
}

GlibLogRoute::GlibLogRoute(const obs::Logger& log) {
  install_glib_writer();
  std::unique_lock lk(g_logger_mu);
  g_logger = &log;
}

GlibLogRoute::~GlibLogRoute() {
  std::unique_lock lk(g_logger_mu);
  g_logger = nullptr;
}

ProcessingJob::ProcessingJob(std::string request_id)
    : request_id_(std::move(request_id)), previous_(t_job) {
  {
    std::lock_guard lk(g_jobs_mu);
    g_jobs.push_back(this);
  }
  t_job = this;
}

ProcessingJob::~ProcessingJob() {
  t_job = previous_;
  std::lock_guard lk(g_jobs_mu);
  g_jobs.erase(std::find(g_jobs.begin(), g_jobs.end(), this));
}

ProcessingJob::Thread::Thread(const ProcessingJob& job) : previous_(t_job) {
  t_job = &job;
}

ProcessingJob::Thread::~Thread() {
  t_job = previous_;
}

void log_imaging_event(obs::Level level, std::string_view event, boost::json::object fields) {
  std::shared_lock lk(g_logger_mu);
  if (!g_logger) {
    lk.unlock();
    std::string text = std::string(event) + " " + boost::json::serialize(fields);
    g_log("image-service", level >= obs::Level::Warn ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_INFO, "%s",
          text.c_str());
    return;
  }
  attribute(fields);
  g_logger->log(level, event, std::move(fields));
}

}  // namespace isvc::imaging
