// Responses with a BodySource: sendfile(2) of a file, memory, pieces read on the I/O thread or on
// the pool; sources that end early or fail close the connection after a short body; the inline
// answer path; keep-alive across all of them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "http/server.h"

namespace isvc::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = char((i * 131 + i / 7) & 0xff);
  return s;
}

const std::string kBytes = pattern(300 * 1000 + 7);  // several 64 KiB pieces and a tail

class Source final : public BodySource {
 public:
  Source(int fd, bool memory, bool blocking, int64_t ends_at, int64_t throws_at)
      : fd_(fd), memory_(memory), blocking_(blocking), ends_at_(ends_at), throws_at_(throws_at) {}
  int file_descriptor() const override { return fd_; }
  std::optional<std::string_view> view() const override {
    if (memory_) return std::string_view(kBytes);
    return std::nullopt;
  }
  bool blocking() const override { return blocking_; }
  std::size_t read(uint64_t offset, char* dst, std::size_t max) override {
    if (throws_at_ >= 0 && int64_t(offset) >= throws_at_) throw std::runtime_error("gone");
    uint64_t end = ends_at_ >= 0 ? uint64_t(ends_at_) : kBytes.size();
    if (offset >= end) return 0;
    std::size_t n = std::min<std::size_t>(max, end - offset);
    std::memcpy(dst, kBytes.data() + offset, n);
    return n;
  }

 private:
  int fd_;
  bool memory_, blocking_;
  int64_t ends_at_, throws_at_;
};

class SourceHandler : public RequestHandler {
 public:
  int fd = -1;
  Lane resolve(Request&) override { return Lane::Worker; }
  std::optional<Response> respond_inline(Request& head) override {
    if (head.path != "/inline") return std::nullopt;
    return make(std::make_shared<Source>(-1, true, false, -1, -1));
  }
  Admission admit(Request&) override { return {}; }
  Response handle(Request& req) override {
    if (req.path == "/file") return make(std::make_shared<Source>(fd, false, false, -1, -1));
    if (req.path == "/file-range") {
      auto r = make(std::make_shared<Source>(fd, false, false, -1, -1));
      r.source_offset = 70000;
      r.source_length = 100000;
      return r;
    }
    if (req.path == "/memory") return make(std::make_shared<Source>(-1, true, false, -1, -1));
    if (req.path == "/pieces") return make(std::make_shared<Source>(-1, false, false, -1, -1));
    if (req.path == "/blocking") return make(std::make_shared<Source>(-1, false, true, -1, -1));
    if (req.path == "/short") return make(std::make_shared<Source>(-1, false, true, 150000, -1));
    if (req.path == "/throws") return make(std::make_shared<Source>(-1, false, true, -1, 140000));
    if (req.path == "/short-file") {
      auto r = make(std::make_shared<Source>(fd, false, false, -1, -1));
      r.source_length = kBytes.size() + 1000;  // more than the file has
      return r;
    }
    Response r;
    r.status = 404;
    return r;
  }
  Response transport_error(const Request&, const domain::Error&) override {
    Response r;
    r.status = 400;
    return r;
  }
  void on_response(const Request&, const Response&, int64_t) override {}

 private:
  static Response make(std::shared_ptr<BodySource> s) {
    Response r;
    r.status = 200;
    r.set("Content-Type", "application/octet-stream");
    r.source = std::move(s);
    r.source_length = kBytes.size();
    return r;
  }
};

struct BodySourceTest : ::testing::Test {
  SourceHandler handler;
  std::unique_ptr<Server> server;
  std::thread runner;
  uint16_t port = 0;
  char path[64] = "/tmp/isvc-body-source-XXXXXX";

  void SetUp() override {
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, kBytes.data(), kBytes.size()), ssize_t(kBytes.size()));
    handler.fd = fd;
    ServerOptions o;
    o.port = 0;
    o.io_threads = 1;
    o.worker_threads = 2;
    server = std::make_unique<Server>(o, handler);
    port = server->listen();
    runner = std::thread([this] { server->run(); });
  }
  void TearDown() override {
    server->stop();
    runner.join();
    ::close(handler.fd);
    ::unlink(path);
  }

  // Sends the requests on one connection and reads until the server closes it.
  std::string exchange(const std::string& requests) {
    asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    asio::write(s, asio::buffer(requests));
    std::string got;
    boost::system::error_code ec;
    char buf[65536];
    while (!ec) {
      auto n = s.read_some(asio::buffer(buf), ec);
      got.append(buf, n);
    }
    return got;
  }
  static std::string get(const std::string& p, bool close = false) {
    return "GET " + p + " HTTP/1.1\r\nHost: x\r\n" + (close ? "Connection: close\r\n" : "") +
           "\r\n";
  }
  // The bodies of the Content-Length framed responses in `got`, and what is left over.
  static std::vector<std::string> bodies(std::string got, std::string* rest = nullptr) {
    std::vector<std::string> out;
    for (;;) {
      auto end = got.find("\r\n\r\n");
      if (end == std::string::npos) break;
      auto cl = got.find("Content-Length: ");
      if (cl == std::string::npos || cl > end) break;
      std::size_t len = std::stoul(got.substr(cl + 16));
      if (got.size() < end + 4 + len) break;
      out.push_back(got.substr(end + 4, len));
      got.erase(0, end + 4 + len);
    }
    if (rest) *rest = got;
    return out;
  }
};

TEST_F(BodySourceTest, EverySourceKindIsSentExactlyAndKeepsTheConnection) {
  std::string got = exchange(get("/file") + get("/memory") + get("/pieces") + get("/blocking") +
                             get("/inline") + get("/file-range", true));
  std::string rest;
  auto b = bodies(got, &rest);
  ASSERT_EQ(b.size(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b[i] == kBytes) << i;
  EXPECT_TRUE(b[5] == kBytes.substr(70000, 100000));
  EXPECT_TRUE(rest.empty());
}

TEST_F(BodySourceTest, ASourceThatEndsEarlyOrFailsClosesTheConnectionAfterAShortBody) {
  for (const char* p : {"/short", "/throws", "/short-file"}) {
    // The second request is never answered: the connection closes inside the first body.
    std::string got = exchange(get(p) + get("/memory"));
    auto end = got.find("\r\n\r\n");
    ASSERT_NE(end, std::string::npos) << p;
    EXPECT_NE(got.find("Content-Length: "), std::string::npos) << p;
    std::string body = got.substr(end + 4);
    EXPECT_LT(body.size(), kBytes.size() + (std::string(p) == "/short-file" ? 1000 : 0)) << p;
    EXPECT_TRUE(kBytes.compare(0, body.size(), body) == 0) << p;  // a prefix, never wrong bytes
    EXPECT_TRUE(bodies(got).empty()) << p;
  }
}

}  // namespace
}  // namespace isvc::http
