// Responses whose body is a BodySource: the head through Beast, then the body by sendfile(2) from
// the source's descriptor (plain TCP), or read piece by piece into one 64 KiB buffer and written
// (TLS, or a source without a descriptor). Memory per connection stays bounded whatever the
// object's size, a blocking source is read on the worker pool (never on an I/O thread), and the
// whole body is due within write_timeout_s: a client that stops reading is cut then.
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "http/session.h"

namespace isvc::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// The response head as bytes (Beast's serializer), sent with the body's first bytes: a head in
// a packet of its own would hold the body's last small segment back for the client's delayed ACK
// (Nagle), about 40 ms per response.
std::string serialize_head(bhttp::response<bhttp::empty_body>& head) {
  bhttp::response_serializer<bhttp::empty_body> sr(head);
  sr.split(true);
  std::string out;
  beast::error_code ec;
  while (!ec && !sr.is_header_done()) {
    std::size_t n = 0;
    sr.next(ec, [&](beast::error_code&, const auto& buffers) {
      for (auto b : beast::buffers_range_ref(buffers))
        out.append(static_cast<const char*>(b.data()), b.size());
      n = beast::buffer_bytes(buffers);
    });
    if (!ec) sr.consume(n);
  }
  return out;
}

}  // namespace

void Session::write_streamed(bool use_sendfile) {
  bhttp::response<bhttp::empty_body> head(static_cast<bhttp::status>(res_.status), 11);
  for (const auto& [k, v] : res_.headers) head.insert(k, v);
  head.content_length(res_.source_length);
  head.keep_alive(keep_alive_);
  stream_head_ = serialize_head(head);
  head_sent_ = 0;
  streamed_ = 0;
  streaming_ = true;
  write_timed_out_ = false;
  stream_.expires_never();  // the deadline below covers the head, the body and the reads
  write_timer_.expires_after(std::chrono::seconds(srv_.opts.write_timeout_s));
  write_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || !self->streaming_) return;
    self->write_timed_out_ = true;
    beast::error_code ignored;
    self->stream_.socket().cancel(ignored);
  });
  if (use_sendfile) {
    beast::error_code ignored;
    stream_.socket().native_non_blocking(true, ignored);
    return send_file_more();
  }
  send_piece();
}

void Session::send_file_more() {
  auto& sock = stream_.socket();
  int fd = res_.source->file_descriptor();
  auto wait_writable = [this, &sock] {
    // The socket's buffer is full: wait until the client has read some (or the deadline).
    sock.async_wait(tcp::socket::wait_write, [self = shared_from_this()](beast::error_code ec) {
      if (ec || self->write_timed_out_) return self->stream_failed(ec);
      self->send_file_more();
    });
  };
  while (head_sent_ < stream_head_.size()) {
    // MSG_MORE: the head waits for the file's first bytes and leaves in the same segment.
    ssize_t n = ::send(sock.native_handle(), stream_head_.data() + head_sent_,
                       stream_head_.size() - head_sent_,
                       MSG_NOSIGNAL | MSG_DONTWAIT | (res_.source_length ? MSG_MORE : 0));
    if (n > 0) {
      head_sent_ += std::size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return wait_writable();
    return stream_failed(beast::error_code(errno, beast::system_category()));
  }
  while (streamed_ < res_.source_length) {
    off_t off = static_cast<off_t>(res_.source_offset + streamed_);
    std::size_t want =
        static_cast<std::size_t>(std::min<uint64_t>(res_.source_length - streamed_, 1u << 30));
    ssize_t n = ::sendfile(sock.native_handle(), fd, &off, want);
    if (n > 0) {
      streamed_ += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return wait_writable();
    // 0: the file ended before the announced length; < 0: a socket or file error.
    if (n == 0)
      return stream_failed(asio::error::make_error_code(asio::error::eof), "source_failed");
    return stream_failed(beast::error_code(errno, beast::system_category()));
  }
  write_timer_.cancel();
  on_write({}, 0);
}

void Session::send_piece() {
  if (streamed_ == res_.source_length && head_sent_ == stream_head_.size()) {
    write_timer_.cancel();
    return on_write({}, 0);
  }
  if (!piece_) piece_ = std::make_unique<std::array<char, kPieceBytes>>();
  // The head (still unsent) leads the first piece, so both go out in one write of one buffer.
  std::size_t lead = std::min(stream_head_.size() - head_sent_, piece_->size() / 2);
  std::memcpy(piece_->data(), stream_head_.data() + head_sent_, lead);
  head_sent_ += lead;
  std::size_t want = static_cast<std::size_t>(
      std::min<uint64_t>(res_.source_length - streamed_, piece_->size() - lead));
  uint64_t at = res_.source_offset + streamed_;
  if (want == 0 || !res_.source->blocking()) {
    std::size_t n = 0;
    bool failed = false;
    try {
      if (want) n = res_.source->read(at, piece_->data() + lead, want);
    } catch (const std::exception&) {
      failed = true;
    }
    return on_piece(lead, n, failed);
  }
  asio::post(pool(), [self = shared_from_this(), at, want, lead] {
    std::size_t n = 0;
    bool failed = false;
    try {
      n = self->res_.source->read(at, self->piece_->data() + lead, want);
    } catch (const std::exception&) {
      failed = true;
    }
    asio::post(self->stream_.get_executor(),
               [self, lead, n, failed] { self->on_piece(lead, n, failed); });
  });
}

void Session::on_piece(std::size_t lead, std::size_t n, bool failed) {
  if (write_timed_out_) return stream_failed(beast::error::timeout);
  // A source that fails or ends early: the client must see a broken response, not a short one
  // taken for whole, so the connection is closed.
  if (failed || (n == 0 && streamed_ < res_.source_length && lead == 0))
    return stream_failed(asio::error::make_error_code(asio::error::eof), "source_failed");
  with_stream([this, lead, n](auto& s) {
    asio::async_write(s, asio::buffer(piece_->data(), lead + n),
                      [self = shared_from_this(), n](beast::error_code ec, std::size_t) {
                        if (ec || self->write_timed_out_) return self->stream_failed(ec);
                        self->streamed_ += n;
                        self->send_piece();
                      });
  });
}

void Session::stream_failed(beast::error_code ec, const char* why) {
  write_timer_.cancel();
  if (write_timed_out_) why = "write_timeout";
  if (!ec) ec = beast::error::timeout;
  // The access log says why the body was cut (the status line had already gone out).
  res_.log_fields.emplace_back("bodyError", why ? why : ec.message());
  keep_alive_ = false;
  on_write(ec, 0);
}

void Session::end_streamed() {
  if (!streaming_) return;
  streaming_ = false;
  stream_head_.clear();
  stream_head_.shrink_to_fit();
  piece_.reset();
}

}  // namespace isvc::http
