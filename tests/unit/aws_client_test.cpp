// Retries with backoff, error classification and URL parsing of the AWS client, against a tiny
// canned-response HTTP server on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "aws/aws_client.h"
#include "domain/model/error.h"

namespace isvc::aws {
namespace {

// Answers each connection's requests with the next canned response (one per request).
class CannedServer {
 public:
  explicit CannedServer(std::vector<std::string> responses) : responses_(std::move(responses)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] { serve(); });
  }
  ~CannedServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return served_; }
  std::string last_request() const { return last_; }

 private:
  void serve() {
    for (;;) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string buf;
      char tmp[4096];
      while (true) {
        auto end = buf.find("\r\n\r\n");
        if (end != std::string::npos) {
          auto cl = buf.find("Content-Length: ");
          std::size_t body = cl == std::string::npos ? 0 : std::stoul(buf.substr(cl + 16));
          if (buf.size() >= end + 4 + body) {
            last_ = buf.substr(0, end + 4 + body);
            buf.erase(0, end + 4 + body);
            std::size_t i = std::min<std::size_t>(served_++, responses_.size() - 1);
            const auto& r = responses_[i];
            if (::write(c, r.data(), r.size()) < 0) break;
            continue;
          }
        }
        auto n = read(c, tmp, sizeof tmp);
        if (n <= 0) break;
        buf.append(tmp, std::size_t(n));
      }
      close(c);
    }
  }
  std::vector<std::string> responses_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> served_{0};
  std::string last_;
  std::thread thread_;
};

std::string reply(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

AwsClientSettings settings(const std::string& url, std::vector<int64_t>* sleeps) {
  AwsClientSettings s;
  s.endpoint = url;
  s.service = "dynamodb";
  s.credentials = {"AKID", "secret", "token"};
  s.retry = {4, 25, 2000};
  s.now_s = [] { return int64_t(1440938160); };
  s.sleep = [sleeps](int64_t ms) { sleeps->push_back(ms); };
  return s;
}

TEST(AwsClient, RetriesThrottlingAndServerErrorsThenSucceeds) {
  CannedServer srv({reply(400, R"({"__type":"com.amazonaws#ThrottlingException"})"),
                    reply(503, "busy"), reply(200, "{}")});
  HttpClient http;
  std::vector<int64_t> sleeps;
  AwsClient c(http, settings(srv.url(), &sleeps));
  AwsRequest r;
  r.method = "POST";
  r.body = "{}";
  auto resp = c.send(r);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(srv.requests(), 3);
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_LE(sleeps[0], 25);  // full jitter: [0, base·2^retry]
  EXPECT_LE(sleeps[1], 50);
  auto req = srv.last_request();
  EXPECT_NE(req.find("Authorization: AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/dynamodb/"
                     "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
                     "x-amz-security-token, Signature="),
            std::string::npos)
      << req;
  EXPECT_NE(req.find("x-amz-date: 20150830T123600Z"), std::string::npos);
  EXPECT_NE(req.find("x-amz-security-token: token"), std::string::npos);
}

TEST(AwsClient, CountsEveryAttemptByServiceAndAction) {
  CannedServer srv({reply(503, "busy"), reply(200, "{}"), reply(200, "{}")});
  HttpClient http;
  std::vector<int64_t> sleeps;
  RequestCounter counter;
  auto s = settings(srv.url(), &sleeps);
  s.counter = &counter;
  AwsClient c(http, s);
  AwsRequest r;
  r.action = "PutItem";
  r.method = "POST";
  EXPECT_EQ(c.send(r).status, 200);  // one retry: two requests, as AWS bills them
  AwsRequest unnamed;
  unnamed.method = "HEAD";
  EXPECT_EQ(c.send(unnamed).status, 200);
  using Key = std::pair<std::string, std::string>;
  EXPECT_EQ(counter.snapshot(),
            (std::map<Key, uint64_t>{{{"dynamodb", "HEAD"}, 1}, {{"dynamodb", "PutItem"}, 2}}));
  obs::TextWriter w;
  counter.write_metrics(w);
  auto text = w.take();
  EXPECT_NE(text.find("isvc_engine_requests_total{service=\"dynamodb\",action=\"PutItem\"} 2\n"),
            std::string::npos)
      << text;
}

TEST(AwsClient, GivesUpAsUnavailableWithRetryAfter) {
  CannedServer srv({reply(500, "no")});
  HttpClient http;
  std::vector<int64_t> sleeps;
  AwsClient c(http, settings(srv.url(), &sleeps));
  try {
    c.send(AwsRequest{});
    FAIL();
  } catch (const domain::Error& e) {
    EXPECT_EQ(e.code(), domain::ErrorCode::Unavailable);
    EXPECT_EQ(e.retry_after_s, 1);
  }
  EXPECT_EQ(srv.requests(), 4);
  EXPECT_EQ(sleeps.size(), 3u);
}

TEST(AwsClient, ClientErrorsAreNotRetried) {
  CannedServer srv({reply(400, R"({"__type":"ConditionalCheckFailedException"})"), reply(200, "")});
  HttpClient http;
  std::vector<int64_t> sleeps;
  AwsClient c(http, settings(srv.url(), &sleeps));
  EXPECT_EQ(c.send(AwsRequest{}).status, 400);
  EXPECT_EQ(srv.requests(), 1);
  EXPECT_TRUE(sleeps.empty());
}

TEST(AwsClient, ConnectionRefusedIsRetriedThenUnavailable) {
  HttpClient http;
  std::vector<int64_t> sleeps;
  AwsClient c(http, settings("http://127.0.0.1:1", &sleeps));
  EXPECT_THROW(c.send(AwsRequest{}), domain::Error);
  EXPECT_EQ(sleeps.size(), 3u);
}

TEST(Retry, BackoffIsFullJitterUnderACappedCeiling) {
  RetryPolicy p{10, 25, 1000};
  std::mt19937_64 rng(42);
  for (int retry = 0; retry < 12; ++retry) {
    int64_t ceiling = std::min<int64_t>(1000, int64_t(25) << std::min(retry, 20));
    int64_t max_seen = 0;
    for (int i = 0; i < 2000; ++i) {
      auto d = backoff_ms(p, retry, rng);
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling);
      max_seen = std::max(max_seen, d);
    }
    EXPECT_GT(max_seen, ceiling / 2);  // the whole range is used
  }
}

TEST(Retry, Classification) {
  auto r = [](int s, std::string b = "") { return HttpResponse{s, {}, std::move(b)}; };
  EXPECT_TRUE(is_retryable(r(500)));
  EXPECT_TRUE(is_retryable(r(503)));
  EXPECT_TRUE(is_retryable(r(429)));
  EXPECT_FALSE(is_retryable(r(501)));
  EXPECT_FALSE(is_retryable(r(404)));
  EXPECT_TRUE(is_retryable(r(400, R"({"__type":"x#ProvisionedThroughputExceededException"})")));
  EXPECT_TRUE(is_retryable(r(400, R"({"__type":"RequestLimitExceeded"})")));
  EXPECT_FALSE(is_retryable(r(400, R"({"__type":"ValidationException"})")));
}

TEST(HttpClientUrl, Parses) {
  auto u = HttpClient::parse_url("https://s3.eu-west-1.amazonaws.com/b/k%20x?list-type=2");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(u.path, "/b/k%20x");
  EXPECT_EQ(u.query, "list-type=2");
  EXPECT_EQ(u.authority(), "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(HttpClient::parse_url("http://127.0.0.1:4567").authority(), "127.0.0.1:4567");
  EXPECT_EQ(HttpClient::parse_url("http://h:80/").authority(), "h");
  EXPECT_THROW(HttpClient::parse_url("ftp://h/"), std::invalid_argument);
  EXPECT_THROW(HttpClient::parse_url("http://user@h/"), std::invalid_argument);
  EXPECT_THROW(HttpClient::parse_url("nope"), std::invalid_argument);
}

}  // namespace
}  // namespace isvc::aws
