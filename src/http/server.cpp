#include "http/server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "domain/encoding.h"

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
  return "req_" + domain::base64url_encode(raw);
}

namespace {
int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

class Session;

struct Server::Impl {
  ServerOptions opts;
  RequestHandler& handler;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  // Keeps run() alive while a session has no pending I/O (its request is on the worker pool).
  asio::executor_work_guard<asio::io_context::executor_type> keep_running{ioc.get_executor()};
  asio::thread_pool workers;
  std::atomic<bool> draining{false};
  std::atomic<int> connections{0};
  std::atomic<int> in_flight{0};
  std::mutex sessions_mu;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stop_requested = false;

  Impl(ServerOptions o, RequestHandler& h)
      : opts(std::move(o)), handler(h), workers(std::max(1, opts.worker_threads)) {}

  void accept();
  void drain_and_stop();
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& srv, bool over_limit)
      : stream_(std::move(socket)), srv_(srv), over_limit_(over_limit) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }

  ~Session() { srv_.connections.fetch_sub(1); }

  void start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::read_header, shared_from_this()));
  }

  // Called at shutdown: close now when idle between requests, otherwise after this response.
  void close_if_idle() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->keep_alive_ = false;
      if (self->idle_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.socket().close(ec);
      }
    });
  }

 private:
  void read_header() {
    idle_ = true;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(srv_.opts.max_header_bytes));
    // The real limit is set once the headers are known; until then the parser must not reject
    // a declared Content-Length on its own (we answer that case with a proper 413).
    parser_->body_limit(boost::none);
    stream_.expires_after(std::chrono::seconds(requests_served_ == 0 ? srv_.opts.header_timeout_s
                                                                     : srv_.opts.idle_timeout_s));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void fill_head() {
    const auto& h = parser_->get();
    req_ = Request{};
    req_.method = std::string(h.method_string());
    req_.target = std::string(h.target());
    auto q = req_.target.find('?');
    req_.path = req_.target.substr(0, q);
    if (q != std::string::npos) req_.query = req_.target.substr(q + 1);
    for (const auto& f : h)
      req_.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    req_.remote_address = remote_;
    req_.request_id = choose_request_id(req_.header("X-Request-Id"));
    req_.received_at_us = started_us_;
  }

  void on_header(beast::error_code ec, std::size_t) {
    idle_ = false;
    started_us_ = now_us();
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return close();
    }
    if (ec == bhttp::error::header_limit) {
      req_ = Request{};
      req_.request_id = choose_request_id(std::nullopt);
      return fail(domain::Error(
          domain::ErrorCode::HeadersTooLarge,
          "request headers exceed " + std::to_string(srv_.opts.max_header_bytes) + " bytes"));
    }
    if (ec) {
      req_ = Request{};
      req_.request_id = choose_request_id(std::nullopt);
      return fail(domain::Error(domain::ErrorCode::BadRequest, "malformed HTTP request"));
    }
    fill_head();
    if (over_limit_) {
      auto e = domain::Error(domain::ErrorCode::Unavailable, "too many open connections");
      e.retry_after_s = 1;
      return fail(e);
    }
    if (srv_.draining.load()) {
      auto e = domain::Error(domain::ErrorCode::Unavailable, "the service is shutting down");
      e.retry_after_s = 1;
      return fail(e);
    }
    std::size_t limit = srv_.handler.body_limit(req_);
    auto declared = parser_->content_length();
    if (declared && *declared > limit) {
      return fail(domain::Error(domain::ErrorCode::PayloadTooLarge,
                                "request body of " + std::to_string(*declared) +
                                    " bytes exceeds the limit of " + std::to_string(limit)));
    }
    parser_->body_limit(limit);
    if (parser_->is_done()) return dispatch_request();
    auto expect = req_.header("Expect");
    if (expect && iequals(*expect, "100-continue")) {
      continue_res_.emplace(bhttp::status::continue_, parser_->get().version());
      stream_.expires_after(std::chrono::seconds(srv_.opts.write_timeout_s));
      bhttp::async_write(stream_, *continue_res_,
                         [self = shared_from_this()](beast::error_code wec, std::size_t) {
                           if (wec) return self->close();
                           self->read_body();
                         });
      return;
    }
    read_body();
  }

  void read_body() {
    stream_.expires_after(std::chrono::seconds(srv_.opts.body_timeout_s));
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::body_limit) {
      return fail(
          domain::Error(domain::ErrorCode::PayloadTooLarge, "request body exceeds the limit"));
    }
    if (ec == beast::error::timeout) {
      return fail(
          domain::Error(domain::ErrorCode::BadRequest, "request body not received in time"));
    }
    if (ec) return close();
    dispatch_request();
  }

  void dispatch_request() {
    req_.body = std::move(parser_->get().body());
    keep_alive_ = keep_alive_ && parser_->get().keep_alive() && !srv_.draining.load();
    srv_.in_flight.fetch_add(1);
    // Blocking work (stores, image processing) happens on the worker pool, never here.
    asio::post(srv_.workers, [self = shared_from_this()] {
      Response res;
      try {
        res = self->srv_.handler.handle(self->req_);
      } catch (const std::exception& e) {
        res = self->srv_.handler.transport_error(
            self->req_, domain::Error(domain::ErrorCode::Internal, "unexpected error"));
      }
      asio::post(self->stream_.get_executor(),
                 [self, res = std::move(res)]() mutable { self->write(std::move(res), false); });
    });
  }

  // An error found before the handler ran: respond, then close without reading the rest.
  void fail(const domain::Error& err) {
    srv_.in_flight.fetch_add(1);
    Response res = srv_.handler.transport_error(req_, err);
    keep_alive_ = false;
    write(std::move(res), true);
  }

  void write(Response res, bool body_unread) {
    res_ = std::move(res);
    if (res_.close_connection || srv_.draining.load()) keep_alive_ = false;
    auto payload = res_.payload();
    out_.emplace(static_cast<bhttp::status>(res_.status), 11);
    for (const auto& [k, v] : res_.headers) out_->insert(k, v);
    out_->body() = bhttp::span_body<const char>::value_type(payload.data(), payload.size());
    if (res_.head_content_length) {
      out_->content_length(*res_.head_content_length);
      out_->body() = {};
    } else if (res_.status != 204 && res_.status != 304) {
      out_->content_length(payload.size());
    }
    out_->keep_alive(keep_alive_);
    body_unread_ = body_unread;
    stream_.expires_after(std::chrono::seconds(srv_.opts.write_timeout_s));
    bhttp::async_write(stream_, *out_,
                       beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    srv_.handler.on_response(req_, res_, now_us() - started_us_);
    srv_.in_flight.fetch_sub(1);
    ++requests_served_;
    out_.reset();
    res_ = Response{};
    if (ec) return close();
    if (!keep_alive_) return body_unread_ ? linger_close() : close();
    read_header();
  }

  // After refusing a request whose body we did not read, half-close and discard what the client
  // is still sending for a bounded time, so it sees our response instead of a connection reset.
  void linger_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    discard_ = std::make_shared<std::array<char, 16384>>();
    drain_more();
  }

  void drain_more() {
    stream_.async_read_some(asio::buffer(*discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->discarded_ += n;
                              if (ec || self->discarded_ > 64 * 1024 * 1024) return self->close();
                              self->drain_more();
                            });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  Server::Impl& srv_;
  bool over_limit_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_res_;
  std::optional<bhttp::response<bhttp::span_body<const char>>> out_;
  Request req_;
  Response res_;
  bool keep_alive_ = true;
  bool idle_ = true;
  bool body_unread_ = false;
  int64_t started_us_ = 0;
  uint64_t requests_served_ = 0;
  std::shared_ptr<std::array<char, 16384>> discard_;
  std::size_t discarded_ = 0;
};

void Server::Impl::accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!acceptor.is_open()) return;  // closed for shutdown
    } else {
      bool over = connections.fetch_add(1) >= opts.max_connections;
      auto s = std::make_shared<Session>(std::move(socket), *this, over);
      {
        std::lock_guard lock(sessions_mu);
        for (auto it = sessions.begin(); it != sessions.end();)
          it = it->expired() ? sessions.erase(it) : std::next(it);
        sessions.insert(s);
      }
      s->start();
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
