// The server's shared state (private to http/): the io_context, the pools, the connection
// accounting by class and client address, and the sessions for the drain.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "http/server.h"

namespace isvc::http {

class Session;

// How a connection counts against the caps.
enum class SeatKind {
  Public,    // within max_connections and the per-client cap
  Reserve,   // beyond them: only probes are served, anything else gets 503
  TurnAway,  // even the reserve is full: answered 503 at once, nothing is read
};

struct Server::Impl {
  ServerOptions opts;
  RequestHandler& handler;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor{ioc};
  // Keeps run() alive while a session has no pending I/O (its request is on a pool).
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> keep_running{
      ioc.get_executor()};
  boost::asio::thread_pool workers;
  boost::asio::thread_pool probes;
  std::atomic<bool> draining{false};
  std::atomic<int> connections{0};  // every open session
  std::atomic<int> in_flight{0};
  std::mutex sessions_mu;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stop_requested = false;

  // Seats: guarded by seats_mu (taken once per connection, never on a request path).
  std::mutex seats_mu;
  int public_seats = 0;
  int reserve_seats = 0;
  int turnaway_seats = 0;
  std::unordered_map<std::string, int> per_client;

  Impl(ServerOptions o, RequestHandler& h)
      : opts(std::move(o)),
        handler(h),
        workers(std::max(1, opts.worker_threads)),
        probes(std::max(1, opts.probe_threads)) {}

  void accept();
  void drain_and_stop();
  // A seat for a new connection from `client`; nullopt when even the turn-away sockets are at
  // their cap (the connection is then closed unanswered).
  std::optional<SeatKind> take_seat(const std::string& client);
  void release_seat(SeatKind kind, const std::string& client);
};

}  // namespace isvc::http
