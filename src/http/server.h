// HTTP/1.1 server on Boost.Beast/Asio: keep-alive, header/body limits enforced while reading,
// timeouts, a connection limit, request ids and graceful drain. Sockets live on I/O threads that
// never block; handlers run on a worker pool.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "domain/error.h"
#include "http/message.h"

namespace isvc::http {

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // The largest body accepted for this request, decided from its method/target/headers.
  virtual std::size_t body_limit(const Request& head) const = 0;
  // Runs on a worker thread; must not throw.
  virtual Response handle(Request& req) = 0;
  // Renders an error found by the transport (oversize body, bad framing, overload, draining).
  virtual Response transport_error(const Request& head, const domain::Error& err) = 0;
  // Called once per written response (access log, metrics).
  virtual void on_response(const Request& req, const Response& res, int64_t duration_us) = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = any free port
  int io_threads = 2;
  int worker_threads = 16;
  int max_connections = 1024;
  std::size_t max_header_bytes = 16 * 1024;
  int header_timeout_s = 10;  // from the first wait for a request to its complete header
  int body_timeout_s = 120;   // to receive the whole body
  int idle_timeout_s = 30;    // keep-alive wait for the next request
  int write_timeout_s = 60;
  int drain_timeout_s = 30;  // bound on waiting for in-flight requests at shutdown
};

class Server {
 public:
  Server(ServerOptions opts, RequestHandler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; returns the bound port (useful with port 0). Throws on failure.
  uint16_t listen();
  // Serves until stop() completes its drain; call from the main thread after listen().
  void run();
  // Thread- and signal-safe request to stop: no new connections, refuse new requests with 503,
  // finish in-flight ones (bounded by drain_timeout_s), then return from run().
  void stop();

  int active_connections() const;
  int in_flight_requests() const;

  struct Impl;  // public only so the .cpp's session type can name it

 private:
  std::unique_ptr<Impl> impl_;
};

// A request id: the caller's when it is 1–128 chars of [A-Za-z0-9._-], else a fresh one.
std::string choose_request_id(std::optional<std::string_view> incoming);

}  // namespace isvc::http
