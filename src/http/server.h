// HTTP/1.1 server on Boost.Beast/Asio. Every request is judged on its head before its body costs
// anything: framing rules (http/framing.h), then the handler's own decision (auth, rate limit,
// admission, declared length); refusals are answered at once and the connection closed
// gracefully. Bodies are read under an idle timeout, a minimum rate and a total deadline.
// Connections are capped in total and per client address, with a reserve that only health and
// metrics probes may use. Sockets live on I/O threads that never block; handlers run on a worker
// pool, probes on a pool of their own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "domain/model/error.h"
#include "http/message.h"

namespace isvc::http {

class TlsContexts;

// Which pool runs a request's decision and handler.
enum class Lane {
  Worker,  // the handler pool (may block on backends)
  Probe,   // health/metrics: a pool of their own, also served on the reserved connections
  Inline,  // cheap and never waits on the network: admitted and handled on the I/O thread when
           // it has no body (with a body, the handler pool)
};

// The handler's verdict on a request head, given before any body byte is read.
struct Admission {
  std::optional<Response> refusal;  // answered at once; the body is never read
  std::size_t body_limit = 0;       // the largest body accepted
  std::size_t body_reserve = 0;     // bytes to reserve for the body up front (chunked uploads)
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // On the I/O thread, cheap and non-blocking: matches the route (recorded in `head`) and says
  // which lane runs it.
  virtual Lane resolve(Request& head) = 0;
  // On the I/O thread, for a bodiless request on the worker lane, right after resolve(): the
  // whole response when the handler can give it without blocking and without admit() (e.g. a
  // hot-cache hit of a public file), else nullopt and the request takes the pools as usual.
  virtual std::optional<Response> respond_inline(Request& head) {
    (void)head;
    return std::nullopt;
  }
  // On the lane's pool (the I/O thread for Lane::Inline), before the body: authenticate,
  // rate-limit, admit, check the declared length. May keep per-request state in head.context
  // until the response is written.
  virtual Admission admit(Request& head) = 0;
  // On the lane's pool (or the I/O thread) once the body is complete (for a bodiless request:
  // right after admit(), on the same thread); must not throw.
  virtual Response handle(Request& req) = 0;
  // Renders an error found by the transport (framing, oversize body, timeouts, overload,
  // draining).
  virtual Response transport_error(const Request& head, const domain::Error& err) = 0;
  // Called once per written response (access log, metrics).
  virtual void on_response(const Request& req, const Response& res, int64_t duration_us) = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = any free port
  int io_threads = 2;
  int worker_threads = 16;
  int probe_threads = 2;
  int max_connections = 1024;            // public connections
  int max_connections_per_client = 256;  // per remote address; 0 = no per-client cap
  int probe_connections = 64;            // reserved beyond the caps, for /health and /metrics
  std::size_t max_header_bytes = 16 * 1024;
  int header_timeout_s = 10;         // from the first wait for a request to its complete header
  int probe_header_timeout_s = 2;    // the same on a reserved (probe-only) connection
  int body_timeout_s = 120;          // to receive the whole body
  int body_idle_timeout_s = 10;      // longest wait for the next body byte
  int64_t min_body_rate_bps = 4096;  // average body rate required once body_idle_timeout_s passed
  int idle_timeout_s = 30;           // keep-alive wait for the next request
  int write_timeout_s = 60;
  // After a refusal, what the client still sends is drained (like nginx's lingering close) while
  // it keeps coming: at most linger_idle_ms between reads and linger_total_ms in all.
  int linger_idle_ms = 5000;
  int linger_total_ms = 30000;
  int drain_timeout_s = 30;  // bound on waiting for in-flight requests at shutdown
  // TLS when set (http/tls.h): each connection handshakes first, within tls_handshake_timeout_s
  // and the header timeout (the handshake is part of the wait for the first request head).
  std::shared_ptr<TlsContexts> tls;
  int tls_handshake_timeout_s = 5;
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

  struct Impl;  // public only so the session (http/session.cpp) can name it

 private:
  std::unique_ptr<Impl> impl_;
};

// A request id: the caller's when it is 1–128 chars of [A-Za-z0-9._-], else a fresh one.
std::string choose_request_id(std::optional<std::string_view> incoming);

}  // namespace isvc::http
