// The server's request/response types, free of Beast so that api/ and its tests do not pay for
// Beast's headers. Header names are compared case-insensitively.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace isvc::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A response body that is not held in a string: a file the kernel can send by itself
// (sendfile(2)), bytes kept in memory elsewhere, or a source read piece by piece. Offsets are
// into the source; the response names the part it sends.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // A readable descriptor whose bytes are the source's (offset 0 = its first byte), or -1.
  virtual int file_descriptor() const { return -1; }
  // The whole source in memory, valid while the source lives, when it is there.
  virtual std::optional<std::string_view> view() const { return std::nullopt; }
  // Whether read() can wait on the network (then it runs on the worker pool, never on an I/O
  // thread); a local file's or memory's read does not.
  virtual bool blocking() const { return false; }
  // Reads up to `max` bytes at `offset` into `dst` and returns how many; 0 means the source ended.
  // Throws when the bytes cannot be read: the server then closes the connection rather than send
  // a body shorter than the Content-Length it announced.
  virtual std::size_t read(uint64_t offset, char* dst, std::size_t max) = 0;
};

bool iequals(std::string_view a, std::string_view b);

struct Request {
  std::string method;  // upper-case token, e.g. "GET"
  std::string target;  // raw request-target, e.g. "/images?limit=5"
  std::string path;    // target before '?', still percent-encoded
  std::string query;   // after '?', without it
  HeaderList headers;
  std::string body;
  std::string remote_address;
  std::string request_id;  // set by the server before the handler runs
  int64_t received_at_us = 0;
  int version = 11;  // 10 = HTTP/1.0, 11 = HTTP/1.1

  // Set by the handler when it resolves the request (RequestHandler::resolve): the route's index
  // in its table (-1: none), the path parameters, and whatever the handler keeps for this request
  // until its response has been written (the caller, an admission ticket…).
  int route = -1;
  std::vector<std::string> params;
  std::shared_ptr<void> context;

  // First header with this name, or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  // How many header fields have this name.
  int header_count(std::string_view name) const;
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;
  // When set, sent instead of `body` without copying (e.g. bytes from the file cache).
  std::shared_ptr<const std::string> shared_body;
  std::size_t shared_offset = 0;
  std::size_t shared_length = 0;
  // When set (and no HEAD), the body is bytes [source_offset, source_offset + source_length) of
  // this source instead of `body`/`shared_body`.
  std::shared_ptr<BodySource> source;
  uint64_t source_offset = 0;
  uint64_t source_length = 0;
  // For HEAD: the Content-Length to announce while sending no body.
  std::optional<uint64_t> head_content_length;
  bool close_connection = false;
  // Extra fields for the access log line (userId, imageId, errorCode…); never sent.
  std::vector<std::pair<std::string, std::string>> log_fields;

  void set(std::string name, std::string value);  // replaces an existing header
  // The body's length, whichever form it has.
  uint64_t body_size() const { return source ? source_length : payload().size(); }
  std::optional<std::string_view> header(std::string_view name) const;
  // The in-memory body (empty for a source without a view).
  std::string_view payload() const {
    if (source) {
      auto v = source->view();
      return v ? v->substr(source_offset, source_length) : std::string_view();
    }
    if (shared_body) return std::string_view(*shared_body).substr(shared_offset, shared_length);
    return body;
  }
};

}  // namespace isvc::http
