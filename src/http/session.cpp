#include "http/session.h"

#include <chrono>

#include "http/framing.h"
#include "http/tls.h"

namespace isvc::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using domain::Error;
using domain::ErrorCode;

namespace {

// A session's buffer holds at most a request head plus one read of body: memory per connection
// is bounded whatever the client sends.
constexpr std::size_t kBufferLimit = 64 * 1024;

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

Error unavailable(std::string message) {
  Error e(ErrorCode::Unavailable, std::move(message));
  e.retry_after_s = 1;
  return e;
}

}  // namespace

Session::Session(tcp::socket socket, Server::Impl& srv, SeatKind seat, std::string client)
    : stream_(std::move(socket)),
      srv_(srv),
      seat_(seat),
      client_(std::move(client)),
      buffer_(kBufferLimit),
      body_timer_(stream_.get_executor()),
      write_timer_(stream_.get_executor()),
      accepted_us_(now_us()) {
  if (srv_.opts.tls) {
    tls_ctx_ = srv_.opts.tls->current();
    tls_.emplace(stream_, *tls_ctx_);
  }
}

Session::~Session() {
  release_seat();
  end_request();
  srv_.connections.fetch_sub(1);
}

void Session::start() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->tls_)
      self->handshake();
    else
      self->begin();
  });
}

int Session::first_head_timeout_s() const {
  int timeout = srv_.opts.header_timeout_s;
  if (seat_ != SeatKind::Public) timeout = std::min(timeout, srv_.opts.probe_header_timeout_s);
  return timeout;
}

void Session::handshake() {
  // Bounded by its own timeout and by the first head's: a client that handshakes slowly has
  // that much less time for its request.
  int timeout = std::min(srv_.opts.tls_handshake_timeout_s, first_head_timeout_s());
  stream_.expires_after(std::chrono::seconds(timeout));
  tls_->async_handshake(asio::ssl::stream_base::server,
                        [self = shared_from_this()](beast::error_code ec) {
                          if (ec) {
                            self->tls_broken_ = true;
                            return self->close();
                          }
                          self->begin();
                        });
}

void Session::begin() {
  if (seat_ == SeatKind::TurnAway) {
    req_.request_id = choose_request_id(std::nullopt);
    req_.remote_address = client_;
    return fail(unavailable("too many open connections"));
  }
  read_header();
}

void Session::close_if_idle() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->keep_alive_ = false;
    if (self->idle_) self->close();
  });
}

void Session::release_seat() {
  if (!seat_) return;
  srv_.release_seat(*seat_, client_);
  seat_.reset();
}

void Session::begin_request() {
  if (in_request_) return;
  in_request_ = true;
  srv_.in_flight.fetch_add(1);
}

void Session::end_request() {
  if (!in_request_) return;
  in_request_ = false;
  srv_.in_flight.fetch_sub(1);
}

void Session::read_header() {
  idle_ = true;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(srv_.opts.max_header_bytes));
  // The real limit is set once the handler has seen the head; until then the parser must not
  // reject a declared Content-Length on its own (the handler answers that with a proper 413).
  parser_->body_limit(boost::none);
  if (requests_served_ == 0) {
    // The first head is due header_timeout_s after the accept, whatever the handshake took.
    int64_t left_us = int64_t(first_head_timeout_s()) * 1'000'000 - (now_us() - accepted_us_);
    stream_.expires_after(std::chrono::microseconds(std::max<int64_t>(1000, left_us)));
  } else {
    int timeout = srv_.opts.idle_timeout_s;
    if (seat_ == SeatKind::Reserve) timeout = std::min(timeout, srv_.opts.probe_header_timeout_s);
    stream_.expires_after(std::chrono::seconds(timeout));
  }
  with_stream([this](auto& s) {
    bhttp::async_read_header(s, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_header, shared_from_this()));
  });
}

bool Session::fill_head() {
  const auto& h = parser_->get();
  req_ = Request{};
  req_.method = std::string(h.method_string());
  req_.version = int(h.version());
  for (const auto& f : h)
    req_.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  req_.remote_address = client_;
  req_.request_id = choose_request_id(req_.header("X-Request-Id"));
  req_.received_at_us = started_us_;
  auto target = origin_form(h.target(), req_.method);
  if (!target) return false;
  req_.target = std::move(*target);
  auto q = req_.target.find('?');
  req_.path = req_.target.substr(0, q);
  if (q != std::string::npos) req_.query = req_.target.substr(q + 1);
  return true;
}

void Session::on_header(beast::error_code ec, std::size_t) {
  idle_ = false;
  started_us_ = now_us();
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
      ec.category() == asio::error::get_ssl_category()) {
    note_error(ec);
    return close();  // gone, or a broken TLS record: nothing to answer on
  }
  if (ec) {
    req_ = Request{};
    req_.request_id = choose_request_id(std::nullopt);
    req_.remote_address = client_;
    if (ec == bhttp::error::header_limit)
      return fail(
          Error(ErrorCode::HeadersTooLarge,
                "request headers exceed " + std::to_string(srv_.opts.max_header_bytes) + " bytes"));
    return fail(Error(ErrorCode::BadRequest, "malformed HTTP request"));
  }
  if (!fill_head()) return fail(Error(ErrorCode::BadRequest, "malformed request-target"));
  if (auto bad = check_framing(req_)) return fail(*bad);
  if (srv_.draining.load()) return fail(unavailable("the service is shutting down"));
  decide();
}

void Session::decide() {
  lane_ = srv_.handler.resolve(req_);
  if (seat_ == SeatKind::Reserve) {
    // A reserved seat serves probes only, one request per connection.
    if (lane_ != Lane::Probe) return fail(unavailable("too many open connections"));
    keep_alive_ = false;
  }
  begin_request();
  bool has_body = !parser_->is_done();
  if (lane_ == Lane::Inline && !has_body) {
    // No hop at all: the handler's work is cheaper than a hand-off to the pool and back.
    Admission a = admit_request();
    if (a.refusal) return on_admitted(std::move(a), false);
    keep_alive_ = keep_alive_ && parser_->get().keep_alive() && !srv_.draining.load();
    return write(handle_request(), false);
  }
  if (!has_body && lane_ == Lane::Worker) {
    std::optional<Response> now;
    try {
      now = srv_.handler.respond_inline(req_);
    } catch (const std::exception&) {
      now.reset();  // the pools answer it then, with the handler's own error handling
    }
    if (now) {
      keep_alive_ = keep_alive_ && parser_->get().keep_alive() && !srv_.draining.load();
      return write(std::move(*now), false);
    }
  }
  bool client_keep_alive = parser_->get().keep_alive();
  asio::post(pool(), [self = shared_from_this(), has_body, client_keep_alive] {
    Admission a = self->admit_request();
    if (!a.refusal && !has_body) {
      // Nothing left to read: handled in the same hop. A hand-off between threads (a futex wake
      // and a context switch each way) was most of a metadata read's CPU; admitted bodiless
      // requests now cross to the pool and back once instead of twice.
      Response res = self->handle_request();
      asio::post(self->stream_.get_executor(), [self, res = std::move(res),
                                                client_keep_alive]() mutable {
        self->keep_alive_ = self->keep_alive_ && client_keep_alive && !self->srv_.draining.load();
        self->write(std::move(res), false);
      });
      return;
    }
    asio::post(self->stream_.get_executor(), [self, a = std::move(a), has_body]() mutable {
      self->on_admitted(std::move(a), has_body);
    });
  });
}

Admission Session::admit_request() {
  try {
    return srv_.handler.admit(req_);
  } catch (const std::exception&) {
    Admission a;
    a.refusal = srv_.handler.transport_error(req_, Error(ErrorCode::Internal, "unexpected error"));
    return a;
  }
}

Response Session::handle_request() {
  try {
    return srv_.handler.handle(req_);
  } catch (const std::exception&) {
    return srv_.handler.transport_error(req_, Error(ErrorCode::Internal, "unexpected error"));
  }
}

void Session::on_admitted(Admission a, bool has_body) {
  if (a.refusal) {
    if (has_body) keep_alive_ = false;
    return write(std::move(*a.refusal), has_body);
  }
  if (!has_body) {
    keep_alive_ = keep_alive_ && parser_->get().keep_alive();
    return run_handler();
  }
  start_body(a);
}

void Session::start_body(const Admission& a) {
  auto declared = parser_->content_length();
  if (declared && *declared > a.body_limit) {
    return fail(Error(ErrorCode::PayloadTooLarge, "request body of " + std::to_string(*declared) +
                                                      " bytes exceeds the limit of " +
                                                      std::to_string(a.body_limit)));
  }
  parser_->body_limit(a.body_limit);
  // Beast reads max(512, free capacity) bytes at a time, and the buffer grows only as far as a
  // head needed: without room made here a 4 MB upload took ~8,000 reads of 512 bytes (a handler
  // and two timer re-arms each). As much room as the body needs, up to 64 KiB, so a small JSON
  // body costs no allocation; given back when the body is complete (see on_body_read).
  buffer_.reserve(std::min<std::size_t>(
      kBufferLimit,
      buffer_.size() + std::min<std::uint64_t>(declared.value_or(kBufferLimit), kBufferLimit)));
  if (!declared && a.body_reserve) parser_->get().body().reserve(a.body_reserve);
  body_started_us_ = now_us();
  body_deadline_us_ = body_started_us_ + int64_t(srv_.opts.body_timeout_s) * 1'000'000;
  body_bytes_ = 0;
  body_timed_out_ = false;
  auto expect = req_.header("Expect");
  if (expect && iequals(*expect, "100-continue")) {
    continue_res_.emplace(bhttp::status::continue_, parser_->get().version());
    stream_.expires_after(std::chrono::seconds(srv_.opts.write_timeout_s));
    with_stream([this](auto& s) {
      bhttp::async_write(s, *continue_res_,
                         [self = shared_from_this()](beast::error_code wec, std::size_t) {
                           if (wec) return self->close();
                           self->read_body();
                         });
    });
    return;
  }
  read_body();
}

void Session::read_body() {
  // The body is timed by our own timer (the stream's timeout would close the socket before a
  // 408 could be written): the next byte within the idle timeout, the whole body by the
  // deadline.
  stream_.expires_never();
  int64_t wake =
      std::min(now_us() + int64_t(srv_.opts.body_idle_timeout_s) * 1'000'000, body_deadline_us_);
  body_timer_.expires_after(std::chrono::microseconds(std::max<int64_t>(0, wake - now_us())));
  body_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec) return;  // cancelled: the read finished first
    self->body_timed_out_ = true;
    beast::error_code ignored;
    self->stream_.socket().cancel(ignored);
  });
  with_stream([this](auto& s) {
    bhttp::async_read_some(s, buffer_, *parser_,
                           beast::bind_front_handler(&Session::on_body_read, shared_from_this()));
  });
}

void Session::on_body_read(beast::error_code ec, std::size_t n) {
  body_timer_.cancel();
  int64_t now = now_us();
  if (body_timed_out_) {
    return fail(Error(
        ErrorCode::RequestTimeout,
        now >= body_deadline_us_
            ? "request body not received within " + std::to_string(srv_.opts.body_timeout_s) + " s"
            : "no request body data for " + std::to_string(srv_.opts.body_idle_timeout_s) + " s"));
  }
  if (ec == bhttp::error::body_limit)
    return fail(Error(ErrorCode::PayloadTooLarge, "request body exceeds the limit"));
  if (ec) {
    note_error(ec);
    return close();
  }
  body_bytes_ += n;
  if (parser_->is_done()) {
    // An idle keep-alive connection holds no more than a request head needed.
    if (buffer_.capacity() > srv_.opts.max_header_bytes) buffer_.shrink_to_fit();
    keep_alive_ = keep_alive_ && parser_->get().keep_alive();
    return run_handler();
  }
  // A client trickling bytes is cut once the idle timeout has passed and its average rate is
  // below the minimum (each byte resets the idle timer, the rate catches the rest).
  int64_t elapsed_us = now - body_started_us_;
  if (elapsed_us >= int64_t(srv_.opts.body_idle_timeout_s) * 1'000'000 &&
      double(body_bytes_) < double(srv_.opts.min_body_rate_bps) * double(elapsed_us) / 1e6) {
    return fail(Error(
        ErrorCode::RequestTimeout,
        "request body slower than " + std::to_string(srv_.opts.min_body_rate_bps) + " bytes/s"));
  }
  read_body();
}

void Session::run_handler() {
  if (parser_->get().body().size()) req_.body = std::move(parser_->get().body());
  keep_alive_ = keep_alive_ && !srv_.draining.load();
  begin_request();
  // Blocking work (stores, image processing) happens on a pool, never here.
  asio::post(pool(), [self = shared_from_this()] {
    Response res = self->handle_request();
    asio::post(self->stream_.get_executor(),
               [self, res = std::move(res)]() mutable { self->write(std::move(res), false); });
  });
}

void Session::fail(const Error& err) {
  begin_request();
  Response res = srv_.handler.transport_error(req_, err);
  keep_alive_ = false;
  write(std::move(res), true);
}

void Session::write(Response res, bool body_unread) {
  res_ = std::move(res);
  if (res_.close_connection || srv_.draining.load()) keep_alive_ = false;
  body_unread_ = body_unread;
  if (res_.source && !res_.head_content_length) {
    // Memory is written from where it is, with its head in one write (for the hot cache's
    // small objects that costs less than sendfile(2) of a memfd: measured, docs/decisions.md);
    // a file without TLS goes by sendfile(2); any other source in bounded pieces.
    if (!res_.source->view()) return write_streamed(!tls_ && res_.source->file_descriptor() >= 0);
  }
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
  stream_.expires_after(std::chrono::seconds(srv_.opts.write_timeout_s));
  with_stream([this](auto& s) {
    bhttp::async_write(s, *out_, beast::bind_front_handler(&Session::on_write, shared_from_this()));
  });
}

void Session::on_write(beast::error_code ec, std::size_t) {
  srv_.handler.on_response(req_, res_, now_us() - started_us_);
  end_request();
  ++requests_served_;
  out_.reset();
  end_streamed();
  res_ = Response{};
  req_ = Request{};  // drops the handler's per-request state (admission ticket…) now
  if (ec) {
    note_error(ec);
    return close();
  }
  if (!keep_alive_) return body_unread_ ? linger_close() : close();
  read_header();
}

// After refusing a request whose body we did not read, half-close and discard what the client
// is still sending while it keeps sending (bounded in time and bytes), so it reads our response
// instead of a reset: a client still writing its body when the socket closes sees EPIPE, not
// the answer. A lingering connection no longer counts against the public and reserve caps (a
// turned-away one does, for its whole short life).
//
// Under TLS the FIN waits until the client has been quiet for kTlsFinQuietMs: a TLS client (Node's
// among them) that sees the FIN while it still writes the refused body ends its own side and
// fails its next write (EPIPE) before it has read the answer. One that reads the answer while
// writing closes the connection itself; one that has sent everything and reads to the end of the
// connection gets the FIN after the quiet time.
void Session::linger_close() {
  if (seat_ != SeatKind::TurnAway) release_seat();
  if (tls_)
    fin_pending_ = true;
  else
    send_fin();
  linger_deadline_us_ = now_us() + int64_t(srv_.opts.linger_total_ms) * 1000;
  discard_ = std::make_shared<std::array<char, 65536>>();
  drain_more();
}

// The half-close of a lingering close: the client reads to our end while we still read its bytes.
void Session::send_fin() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

void Session::drain_more() {
  int64_t left_us = linger_deadline_us_ - now_us();
  if (left_us <= 0) return close();
  if (fin_pending_) {
    // Re-armed by every read; fires only after kTlsFinQuietMs without client bytes.
    write_timer_.expires_after(std::chrono::milliseconds(kTlsFinQuietMs));
    write_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->fin_pending_) return;
      self->fin_pending_ = false;
      self->send_fin();
    });
  }
  stream_.expires_after(
      std::chrono::microseconds(std::min<int64_t>(left_us, srv_.opts.linger_idle_ms * 1000LL)));
  stream_.async_read_some(asio::buffer(*discard_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->discarded_ += n;
                            if (ec || self->discarded_ > 64 * 1024 * 1024) return self->close();
                            self->drain_more();
                          });
}

void Session::note_error(const beast::error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) tls_broken_ = true;
}

void Session::close() {
  beast::error_code ec;
  body_timer_.cancel();
  write_timer_.cancel();
  // OpenSSL drops a session from the resumption cache when its connection ends without a TLS
  // shutdown; ours end with a TCP close (no close_notify round trip to wait for), so a session
  // that completed its handshake and saw no TLS error is marked as shut down and stays cached.
  if (tls_ && !tls_broken_ && SSL_is_init_finished(tls_->native_handle()))
    SSL_set_shutdown(tls_->native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
  end_request();
}

}  // namespace isvc::http
