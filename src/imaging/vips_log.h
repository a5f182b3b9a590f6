// GLib/libvips log messages as lines of the service's JSON log, attributed to the upload whose
// processing emitted them. GLib has one process-wide log writer, so this state is process-wide.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "obs/logger.h"

namespace isvc::imaging {

// Installs the GLib log writer (once per process; init_vips calls it). Until a logger is
// attached, messages go to GLib's default writer (plain text on stderr), as before.
void install_glib_writer();

// Attaches `log` to the writer for the guard's lifetime; GLib messages then become
// `vips_message` lines. Detaching waits for messages being written with it.
class GlibLogRoute {
 public:
  explicit GlibLogRoute(const obs::Logger& log);
  ~GlibLogRoute();
  GlibLogRoute(const GlibLogRoute&) = delete;
  GlibLogRoute& operator=(const GlibLogRoute&) = delete;
};

// One processing call in flight. Messages logged on the thread that created it (or on a thread
// bound with Thread) carry its request id exactly, as do those of a thread inside an
// obs::LogContext (the request's own thread, which probes the header before any job). libvips
// computes pixels on its own pooled worker threads that belong to no job: their messages carry
// the request id when this is the only job in flight, and the ids of all jobs in flight
// (`requestIdCandidates`) otherwise. Messages of any other thread carry no id.
class ProcessingJob {
 public:
  explicit ProcessingJob(std::string request_id);
  ~ProcessingJob();
  ProcessingJob(const ProcessingJob&) = delete;
  ProcessingJob& operator=(const ProcessingJob&) = delete;
  const std::string& request_id() const { return request_id_; }

  // Binds a helper thread of the job (e.g. the thumbnail encoder) for the guard's lifetime.
  class Thread {
   public:
    explicit Thread(const ProcessingJob& job);
    ~Thread();
    Thread(const Thread&) = delete;
    Thread& operator=(const Thread&) = delete;

   private:
    const ProcessingJob* previous_;
  };

 private:
  std::string request_id_;
  const ProcessingJob* previous_;
};

// A line of the imaging adapter's own (e.g. `icc_profile_ignored`), attributed like GLib's.
// Goes to GLib's default writer when no logger is attached.
void log_imaging_event(obs::Level level, std::string_view event, boost::json::object fields);

}  // namespace isvc::imaging
