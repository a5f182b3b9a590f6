#include "http/server.h"

#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "base/encoding.h"
#include "http/server_impl.h"
#include "http/session.h"

namespace isvc::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string choose_request_id(std::optional<std::string_view> incoming) {
  if (incoming && !incoming->empty() && incoming->size() <= 128) {
    bool ok = true;
    for (char c : *incoming) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
        ok = false;
        break;
      }
    }
    if (ok) return std::string(*incoming);
  }
  // 96 random bits are plenty for correlation; a thread-local engine keeps this off the lock path.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string raw(12, '\0');
  for (std::size_t i = 0; i < raw.size(); i += 8) {
    uint64_t v = rng();
    for (std::size_t j = 0; j < 8 && i + j < raw.size(); ++j) raw[i + j] = char(v >> (8 * j));
  }
  return "req_" + base::base64url_encode(raw);
}

std::optional<SeatKind> Server::Impl::take_seat(const std::string& client) {
  std::lock_guard lock(seats_mu);
  // Every socket, lingering ones included, under one hard cap: descriptors stay bounded.
  if (connections.load() >= 2 * opts.max_connections + opts.probe_connections + 64)
    return std::nullopt;
  int& mine = per_client[client];
  bool client_ok = opts.max_connections_per_client <= 0 || mine < opts.max_connections_per_client;
  if (public_seats < opts.max_connections && client_ok) {
    ++public_seats;
    ++mine;
    return SeatKind::Public;
  }
  if (mine == 0) per_client.erase(client);
  if (reserve_seats < opts.probe_connections) {
    ++reserve_seats;
    return SeatKind::Reserve;
  }
  // A client that is closed on unanswered may wait or retry blindly; a 503 it can read costs a
  // write and a short drain. Bounded, so a flood cannot hold descriptors without limit.
  if (turnaway_seats < std::max(opts.max_connections, 64)) {
    ++turnaway_seats;
    return SeatKind::TurnAway;
  }
  return std::nullopt;
}

void Server::Impl::release_seat(SeatKind kind, const std::string& client) {
  std::lock_guard lock(seats_mu);
  if (kind == SeatKind::Reserve) {
    --reserve_seats;
    return;
  }
  if (kind == SeatKind::TurnAway) {
    --turnaway_seats;
    return;
  }
  --public_seats;
  auto it = per_client.find(client);
  if (it != per_client.end() && --it->second <= 0) per_client.erase(it);
}

void Server::Impl::accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!acceptor.is_open()) return;  // closed for shutdown
    } else {
      beast::error_code aec;
      auto ep = socket.remote_endpoint(aec);
      std::string client = aec ? std::string() : ep.address().to_string();
      auto seat = take_seat(client);
      if (!seat) {
        socket.close(aec);
      } else {
        connections.fetch_add(1);
        auto s = std::make_shared<Session>(std::move(socket), *this, *seat, std::move(client));
        {
          std::lock_guard lock(sessions_mu);
          for (auto it = sessions.begin(); it != sessions.end();)
            it = it->expired() ? sessions.erase(it) : std::next(it);
          sessions.insert(s);
        }
        s->start();
      }
    }
    if (acceptor.is_open()) accept();
  });
}

void Server::Impl::drain_and_stop() {
  asio::post(ioc, [this] {
    beast::error_code ec;
    acceptor.close(ec);
    std::lock_guard lock(sessions_mu);
    for (auto& w : sessions)
      if (auto s = w.lock()) s->close_if_idle();
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(opts.drain_timeout_s);
  // Polling a counter is the simplest correct drain: sessions finish on their own executors.
  while (in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  asio::post(ioc, [this] {
    std::lock_guard lock(sessions_mu);
    for (auto& w : sessions)
      if (auto s = w.lock()) s->close_if_idle();
  });
  while (connections.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  keep_running.reset();
  ioc.stop();
}

Server::Server(ServerOptions opts, RequestHandler& handler)
    : impl_(std::make_unique<Impl>(std::move(opts), handler)) {}

Server::~Server() {
  impl_->ioc.stop();
  impl_->workers.join();
  impl_->probes.join();
}

uint16_t Server::listen() {
  auto addr = asio::ip::make_address(impl_->opts.host);
  tcp::endpoint ep(addr, impl_->opts.port);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  impl_->accept();
  return impl_->acceptor.local_endpoint().port();
}

void Server::run() {
  std::thread stopper([this] {
    std::unique_lock lock(impl_->stop_mu);
    impl_->stop_cv.wait(lock, [this] { return impl_->stop_requested; });
    lock.unlock();
    impl_->draining.store(true);
    impl_->drain_and_stop();
  });
  std::vector<std::thread> io;
  for (int i = 1; i < impl_->opts.io_threads; ++i) io.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : io) t.join();
  {
    std::lock_guard lock(impl_->stop_mu);
    impl_->stop_requested = true;
  }
  impl_->stop_cv.notify_all();
  stopper.join();
  impl_->workers.join();
  impl_->probes.join();
}

void Server::stop() {
  impl_->draining.store(true);  // from now on every response closes its connection
  {
    std::lock_guard lock(impl_->stop_mu);
    impl_->stop_requested = true;
  }
  impl_->stop_cv.notify_all();
}

int Server::active_connections() const {
  return impl_->connections.load();
}
int Server::in_flight_requests() const {
  return impl_->in_flight.load();
}

}  // namespace isvc::http
