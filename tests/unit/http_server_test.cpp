// The Beast server on loopback with raw sockets: keep-alive, limits enforced while reading,
// request ids, 100-continue, decisions on the head, framing rules, body timeouts, connection
// caps with the probe reserve, and graceful drain.
#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace isvc::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// What api/error_mapping answers for the errors the server itself raises (the server is tested
// here without the api layer).
int status_of(domain::ErrorCode c) {
  using domain::ErrorCode;
  switch (c) {
    case ErrorCode::RequestTimeout:
      return 408;
    case ErrorCode::PayloadTooLarge:
    case ErrorCode::FileTooLarge:
      return 413;
    case ErrorCode::HeadersTooLarge:
      return 431;
    case ErrorCode::NotImplemented:
      return 501;
    case ErrorCode::Unavailable:
      return 503;
    default:
      return 400;
  }
}

class EchoHandler : public RequestHandler {
 public:
  std::promise<void> entered;
  std::shared_future<void> release;
  bool block = false;

  std::atomic<int> admitted{0};

  std::mutex threads_mu;
  std::vector<std::pair<std::string, std::thread::id>> handled_on;  // path, thread

  Lane resolve(Request& head) override {
    if (head.path.rfind("/health", 0) == 0) return Lane::Probe;
    return head.path.find("inline") != std::string::npos ? Lane::Inline : Lane::Worker;
  }
  Admission admit(Request& head) override {
    ++admitted;
    Admission a;
    a.body_limit = 1000;
    if (head.path == "/refuse" || head.path == "/refuse-inline") {
      Response r;
      r.status = 401;
      r.body = "no";
      a.refusal = std::move(r);
    }
    return a;
  }
  Response handle(Request& req) override {
    {
      std::lock_guard lock(threads_mu);
      handled_on.emplace_back(req.path, std::this_thread::get_id());
    }
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
    r.status = status_of(e.code());
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

TEST_F(ServerFixture, InlineLaneRunsBodilessRequestsOnTheIoThreadAndBodiesOnTheWorkers) {
  start();  // one I/O thread: the runner's
  auto s = connect();
  std::string buf;
  send(s,
       "GET /inline/a HTTP/1.1\r\nHost: x\r\n\r\n"
       "POST /inline/b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
       "GET /c HTTP/1.1\r\nHost: x\r\n\r\n"
       "GET /inline/d HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(read_response(s, buf).find("GET /inline/a 0"), std::string::npos);
  EXPECT_NE(read_response(s, buf).find("POST /inline/b 3"), std::string::npos);
  EXPECT_NE(read_response(s, buf).find("GET /c 0"), std::string::npos);
  auto last = read_response(s, buf);
  EXPECT_NE(last.find("GET /inline/d 0"), std::string::npos);
  EXPECT_EQ(last.find("Connection: close"), std::string::npos) << last;  // still keep-alive
  std::lock_guard lock(handler.threads_mu);
  ASSERT_EQ(handler.handled_on.size(), 4u);
  auto io = runner.get_id();
  EXPECT_EQ(handler.handled_on[0], std::make_pair(std::string("/inline/a"), io));
  EXPECT_EQ(handler.handled_on[1].first, "/inline/b");
  EXPECT_NE(handler.handled_on[1].second, io);  // a body: the handler pool
  EXPECT_NE(handler.handled_on[2].second, io);  // Lane::Worker
  EXPECT_EQ(handler.handled_on[3].second, io);
}

TEST_F(ServerFixture, InlineRefusalIsAnsweredAndTheConnectionKept) {
  start();
  auto s = connect();
  std::string buf;
  send(s,
       "GET /refuse-inline HTTP/1.1\r\nHost: x\r\n\r\n"
       "GET /inline/after HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = read_response(s, buf);
  EXPECT_NE(r.find("HTTP/1.1 401"), std::string::npos) << r;
  EXPECT_EQ(r.find("Connection: close"), std::string::npos) << r;
  EXPECT_NE(read_response(s, buf).find("GET /inline/after 0"), std::string::npos);
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

// Reads until the peer closes (or the deadline passes); true when it closed.
bool closed_by_peer(tcp::socket& s, std::string& got, int seconds = 5) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  s.non_blocking(true);
  while (std::chrono::steady_clock::now() < deadline) {
    char buf[4096];
    boost::system::error_code ec;
    auto n = s.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (ec) return true;
    got.append(buf, n);
  }
  return false;
}

int count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

TEST_F(ServerFixture, SmuggledRequestsAfterAnAmbiguousTransferEncodingAreNeverAnswered) {
  start();
  for (std::string te : {"chunked, identity", "identity", "xchunked", "chunked, chunked"}) {
    auto s = connect();
    send(s, "GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                "\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string got;
    EXPECT_TRUE(closed_by_peer(s, got)) << te;
    EXPECT_EQ(count(got, "HTTP/1.1 "), 1) << te << "\n" << got;
    EXPECT_NE(got.find("HTTP/1.1 400"), std::string::npos) << te << "\n" << got;
    EXPECT_EQ(got.find("smuggled"), std::string::npos) << te;
  }
  auto s = connect();
  send(s, "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
  std::string got;
  EXPECT_TRUE(closed_by_peer(s, got));
  EXPECT_NE(got.find("HTTP/1.1 501"), std::string::npos) << got;
  auto both = connect();
  send(both,
       "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n");
  got.clear();
  EXPECT_TRUE(closed_by_peer(both, got));
  EXPECT_NE(got.find("HTTP/1.1 400"), std::string::npos) << got;
  EXPECT_EQ(handler.admitted.load(), 0);
}

TEST_F(ServerFixture, HostAndAuthorizationRules) {
  start();
  auto expect_status = [&](const std::string& raw, const std::string& status) {
    auto s = connect();
    std::string buf;
    send(s, raw);
    auto r = read_response(s, buf);
    EXPECT_NE(r.find("HTTP/1.1 " + status), std::string::npos) << raw << "\n" << r;
  };
  expect_status("GET /a HTTP/1.1\r\n\r\n", "400");
  expect_status("GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "400");
  expect_status("GET /a HTTP/1.1\r\nHost: x\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
                "400");
  expect_status("GET /a HTTP/1.0\r\n\r\n", "200");
  expect_status("GET http://example.com/abs?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", "200");
  auto s = connect();
  std::string buf;
  send(s, "GET http://example.com/abs?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_NE(read_response(s, buf).find("GET /abs?q=1 0"), std::string::npos);
}

TEST_F(ServerFixture, RefusalOnTheHeadIsAnsweredBeforeTheBodyAndCloses) {
  start();
  auto s = connect();
  send(s, "POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n");
  std::string buf;
  auto r = read_response(s, buf);  // no body byte sent
  EXPECT_NE(r.find("HTTP/1.1 401"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
  send(s, std::string(900, 'x'));  // drained, not a reset
  std::string rest;
  EXPECT_TRUE(closed_by_peer(s, rest));
  EXPECT_EQ(rest, "");
}

TEST_F(ServerFixture, IdleBodyGets408) {
  opts.body_idle_timeout_s = 1;
  start();
  auto s = connect();
  send(s, "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nx");
  auto t0 = std::chrono::steady_clock::now();
  std::string got;
  EXPECT_TRUE(closed_by_peer(s, got, 5));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_NE(got.find("HTTP/1.1 408"), std::string::npos) << got;
  EXPECT_LT(waited, std::chrono::milliseconds(4000));
}

TEST_F(ServerFixture, TricklingBodyBelowTheMinimumRateGets408) {
  opts.body_idle_timeout_s = 1;
  opts.min_body_rate_bps = 1000;
  start();
  auto s = connect();
  send(s, "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n");
  std::string got;
  bool cut = false;
  for (int i = 0; i < 40 && !cut; ++i) {  // 10 bytes every 100 ms: 100 B/s
    boost::system::error_code ec;
    asio::write(s, asio::buffer(std::string(10, 'x')), ec);
    if (ec) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    s.non_blocking(true);
    char b[4096];
    auto n = s.read_some(asio::buffer(b), ec);
    s.non_blocking(false);
    if (!ec) got.append(b, n);
    cut = got.find("HTTP/1.1 408") != std::string::npos;
  }
  EXPECT_TRUE(cut) << got;
}

TEST_F(ServerFixture, ProbesAreServedFromTheReserveWhenPublicSeatsAreFull) {
  opts.max_connections = 2;
  opts.probe_connections = 2;
  start();
  std::vector<tcp::socket> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(connect());
    send(held.back(), "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nx");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto other = connect();
  std::string bo;
  send(other, "GET /images HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(read_response(other, bo).find("HTTP/1.1 503"), std::string::npos);
  auto probe = connect();
  std::string bp;
  send(probe, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = read_response(probe, bp);
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
  EXPECT_NE(r.find("GET /health 0"), std::string::npos) << r;
}

TEST_F(ServerFixture, PerClientCapSendsTheExtraConnectionsAway) {
  opts.max_connections_per_client = 1;
  start();
  auto a = connect();
  std::string ba, bb;
  send(a, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(read_response(a, ba).find("200"), std::string::npos);
  auto b = connect();
  send(b, "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(read_response(b, bb).find("HTTP/1.1 503"), std::string::npos);
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
