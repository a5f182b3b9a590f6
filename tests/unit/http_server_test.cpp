// The Beast server on loopback with raw sockets: keep-alive, limits enforced while reading,
// request ids, 100-continue, connection limit and graceful drain.
#include "http/server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <future>
#include <thread>

namespace isvc::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class EchoHandler : public RequestHandler {
 public:
  std::promise<void> entered;
  std::shared_future<void> release;
  bool block = false;

  std::size_t body_limit(const Request&) const override { return 1000; }
  Response handle(Request& req) override {
    if (block) {
      entered.set_value();
      release.wait();
    }
    Response r;
    r.status = 200;
    r.body = req.method + " " + req.target + " " + std::to_string(req.body.size());
    r.set("X-Request-Id", req.request_id);
    return r;
  }
  Response transport_error(const Request& head, const domain::Error& e) override {
    Response r;
    r.status = domain::http_status(e.code());
    r.body = domain::code_name(e.code());
    r.set("X-Request-Id", head.request_id);
    return r;
  }
  void on_response(const Request&, const Response&, int64_t) override {}
};

struct ServerFixture : ::testing::Test {
  EchoHandler handler;
  ServerOptions opts;
  std::unique_ptr<Server> server;
  std::thread runner;
  uint16_t port = 0;

  void start() {
    opts.port = 0;
    opts.io_threads = 1;
    opts.worker_threads = 2;
    server = std::make_unique<Server>(opts, handler);
    port = server->listen();
    runner = std::thread([this] { server->run(); });
  }
  void TearDown() override {
    if (server) server->stop();
    if (runner.joinable()) runner.join();
  }

  tcp::socket connect() {
    static asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    return s;
  }
  static void send(tcp::socket& s, const std::string& data) { asio::write(s, asio::buffer(data)); }
  // Reads one response: headers, then Content-Length bytes of body.
  static std::string read_response(tcp::socket& s, std::string& buffered) {
    boost::system::error_code ec;
    for (;;) {
      auto end = buffered.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = buffered.substr(0, end + 4);
        std::size_t len = 0;
        auto cl = head.find("Content-Length: ");
        if (cl != std::string::npos) len = std::stoul(head.substr(cl + 16));
        while (buffered.size() < end + 4 + len) {
          char buf[4096];
          auto n = s.read_some(asio::buffer(buf), ec);
          if (ec) break;
          buffered.append(buf, n);
        }
        std::string out = buffered.substr(0, end + 4 + len);
        buffered.erase(0, out.size());
        return out;
      }
      char buf[4096];
      auto n = s.read_some(asio::buffer(buf), ec);
      if (ec) return buffered;
      buffered.append(buf, n);
    }
  }
};

TEST_F(ServerFixture, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  auto s = connect();
  std::string buf;
  send(s,
       "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: "
       "3\r\n\r\nabc");
  auto r1 = read_response(s, buf);
  auto r2 = read_response(s, buf);
  EXPECT_NE(r1.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(r1.find("GET /a 0"), std::string::npos);
  EXPECT_NE(r2.find("POST /b 3"), std::string::npos);
}

TEST_F(ServerFixture, OversizeContentLengthIsRefusedBeforeTheBody) {
  start();
  auto s = connect();
  std::string buf;
  send(s, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n");
  auto r = read_response(s, buf);
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
  EXPECT_NE(r.find("PAYLOAD_TOO_LARGE"), std::string::npos);
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
}

TEST_F(ServerFixture, ChunkedBodyOverTheLimitIsRefusedWhileReading) {
  start();
  auto s = connect();
  std::string buf;
  std::string chunk(2000, 'a');
  send(s, "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + chunk +
              "\r\n0\r\n\r\n");
  auto r = read_response(s, buf);
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
}

TEST_F(ServerFixture, HugeHeadersGet431) {
  start();
  auto s = connect();
  std::string buf;
  send(s, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  auto r = read_response(s, buf);
  EXPECT_NE(r.find("HTTP/1.1 431"), std::string::npos) << r.substr(0, 200);
}

TEST_F(ServerFixture, MalformedRequestGets400) {
  start();
  auto s = connect();
  std::string buf;
  send(s, "NOT HTTP AT ALL\r\n\r\n");
  auto r = read_response(s, buf);
  EXPECT_NE(r.find("HTTP/1.1 400"), std::string::npos) << r;
}

TEST_F(ServerFixture, RequestIdsAreEchoedWhenSaneAndReplacedOtherwise) {
  EXPECT_EQ(choose_request_id("abc-DEF_1.2"), "abc-DEF_1.2");
  EXPECT_NE(choose_request_id("has space"), "has space");
  EXPECT_NE(choose_request_id(std::string(129, 'a')), std::string(129, 'a'));
  EXPECT_EQ(choose_request_id(std::string(128, 'a')), std::string(128, 'a'));
  auto fresh = choose_request_id(std::nullopt);
  EXPECT_LE(fresh.size(), 64u);
  EXPECT_NE(fresh, choose_request_id(std::nullopt));
  start();
  auto s = connect();
  std::string buf;
  send(s, "GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-42\r\n\r\n");
  EXPECT_NE(read_response(s, buf).find("X-Request-Id: trace-42"), std::string::npos);
}

TEST_F(ServerFixture, ExpectContinueGets100ThenTheResponse) {
  start();
  auto s = connect();
  std::string buf;
  send(s, "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  auto interim = read_response(s, buf);
  EXPECT_NE(interim.find("HTTP/1.1 100 Continue"), std::string::npos) << interim;
  send(s, "hello");
  EXPECT_NE(read_response(s, buf).find("POST /u 5"), std::string::npos);
}

TEST_F(ServerFixture, ConnectionsOverTheLimitGet503) {
  opts.max_connections = 1;
  start();
  auto a = connect();
  std::string ba, bb;
  send(a, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(read_response(a, ba).find("200"), std::string::npos);
  auto b = connect();
  send(b, "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = read_response(b, bb);
  EXPECT_NE(r.find("HTTP/1.1 503"), std::string::npos) << r;
}

TEST_F(ServerFixture, StopLetsAnInFlightRequestFinish) {
  std::promise<void> go;
  handler.release = go.get_future().share();
  handler.block = true;
  auto entered = handler.entered.get_future();
  start();
  auto s = connect();
  std::string buf;
  send(s, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  entered.wait();
  server->stop();
  go.set_value();
  auto r = read_response(s, buf);
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
  runner.join();
}

}  // namespace
}  // namespace isvc::http
