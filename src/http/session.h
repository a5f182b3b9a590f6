// One client connection: reads request heads and bodies under the server's limits, asks the
// handler for its decision on each head, runs the handler on the right pool and writes the
// responses, keep-alive or a graceful close.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>
#include <optional>
#include <string>

#include "http/server_impl.h"

namespace isvc::http {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, Server::Impl& srv, SeatKind seat,
          std::string client);
  ~Session();

  void start();  // the TLS handshake first, when the server has TLS
  // Called at shutdown: close now when idle between requests, otherwise after this response.
  void close_if_idle();

 private:
  int first_head_timeout_s() const;
  void handshake();
  void begin();
  void read_header();
  void on_header(boost::beast::error_code ec, std::size_t);
  bool fill_head();
  void decide();
  void on_admitted(Admission a, bool has_body);
  void start_body(const Admission& a);
  void read_body();
  void on_body_read(boost::beast::error_code ec, std::size_t n);
  void run_handler();
  Admission admit_request();  // the handler's admission, an exception answered as 500
  Response handle_request();  // the handler, an exception answered as 500
  void fail(const domain::Error& err);
  void write(Response res, bool body_unread);
  void on_write(boost::beast::error_code ec, std::size_t);
  // A response whose body is a BodySource (http/session_stream.cpp): the head, then the body by
  // sendfile(2) or in pieces through one bounded buffer, within the write deadline.
  void write_streamed(bool use_sendfile);
  void send_file_more();
  void send_piece();
  void on_piece(std::size_t lead, std::size_t n, bool failed);
  void end_streamed();
  // Ends a streamed body early (logged as bodyError: `why`, or the error) and the connection.
  void stream_failed(boost::beast::error_code ec, const char* why = nullptr);
  void linger_close();
  void drain_more();
  void send_fin();
  void close();
  void note_error(const boost::beast::error_code& ec);  // a TLS error: no resumption
  void begin_request();
  void end_request();
  void release_seat();
  // Runs f on the stream requests are read from and responses written to: the TLS stream over
  // the TCP one, or the TCP stream itself (timeouts and socket operations stay on stream_).
  template <class F>
  void with_stream(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(stream_);
  }
  boost::asio::thread_pool& pool() { return lane_ == Lane::Probe ? srv_.probes : srv_.workers; }

  boost::beast::tcp_stream stream_;
  std::shared_ptr<boost::asio::ssl::context> tls_ctx_;  // kept alive by the connection
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream&>> tls_;
  Server::Impl& srv_;
  std::optional<SeatKind> seat_;
  std::string client_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::optional<boost::beast::http::response<boost::beast::http::empty_body>> continue_res_;
  std::optional<boost::beast::http::response<boost::beast::http::span_body<const char>>> out_;
  boost::asio::steady_timer body_timer_;
  // The streamed body's deadline (write_timeout_s from its first byte, like a whole response's);
  // in a TLS lingering close, the quiet time before the FIN.
  boost::asio::steady_timer write_timer_;
  std::string stream_head_;  // the streamed response's head, serialized
  std::size_t head_sent_ = 0;
  static constexpr std::size_t kPieceBytes = 65536;
  std::unique_ptr<std::array<char, kPieceBytes>> piece_;  // only while a streamed body is written
  uint64_t streamed_ = 0;                                 // body bytes written so far
  bool streaming_ = false;
  bool write_timed_out_ = false;
  Request req_;
  Response res_;
  Lane lane_ = Lane::Worker;
  bool keep_alive_ = true;
  bool idle_ = true;
  bool body_unread_ = false;
  bool in_request_ = false;
  bool body_timed_out_ = false;
  bool tls_broken_ = false;
  int64_t accepted_us_ = 0;  // the first head's deadline counts from here (handshake included)
  int64_t started_us_ = 0;
  int64_t body_started_us_ = 0;
  int64_t body_deadline_us_ = 0;
  int64_t linger_deadline_us_ = 0;
  uint64_t body_bytes_ = 0;
  uint64_t requests_served_ = 0;
  static constexpr int kTlsFinQuietMs = 1000;  // see linger_close()
  bool fin_pending_ = false;                   // TLS lingering close: the FIN not sent yet
  std::shared_ptr<std::array<char, 65536>> discard_;
  std::size_t discarded_ = 0;
};

}  // namespace isvc::http
