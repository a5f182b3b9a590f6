// Redis health per use: the metadata cache, the rate limiter and the health ping share the
// connections but not their failures. A scripted RESP server on loopback answers, errs or stays
// silent (the client times out) per command.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cache/redis_client.h"
#include "cache/redis_metadata_cache.h"
#include "cache/redis_rate_limiter.h"
#include "memory_metadata.h"

namespace isvc::cache {
namespace {

// A RESP server: the handler's text is sent back verbatim; nullopt sends nothing (a stalled
// Redis: the client's command times out).
class ScriptedRedis {
 public:
  using Handler = std::function<std::optional<std::string>(const std::vector<std::string>&)>;

  explicit ScriptedRedis(Handler h) : handler_(std::move(h)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    accept_ = std::thread([this] { accept_loop(); });
  }
  ~ScriptedRedis() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    accept_.join();
    {
      std::lock_guard l(mu_);
      for (int c : conns_) ::shutdown(c, SHUT_RDWR);
    }
    for (auto& t : sessions_) t.join();
    for (int c : conns_) ::close(c);
  }
  RedisEndpoint endpoint() const {
    RedisEndpoint ep;
    ep.port = port_;
    return ep;
  }
  // Commands received so far whose first argument is `name` (EVAL: whose script contains it).
  int received(const std::string& what) {
    std::lock_guard l(mu_);
    int n = 0;
    for (const auto& cmd : log_)
      if (cmd[0] == what || (cmd[0] == "EVAL" && cmd[1].find(what) != std::string::npos)) ++n;
    return n;
  }

 private:
  void accept_loop() {
    for (;;) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0 || stop_) {
        if (c >= 0) ::close(c);
        return;
      }
      std::lock_guard l(mu_);
      conns_.push_back(c);
      sessions_.emplace_back([this, c] { serve(c); });
    }
  }
  // Parses RESP arrays of bulk strings (what hiredis sends) and answers each.
  void serve(int c) {
    std::string buf;
    char chunk[4096];
    for (;;) {
      std::vector<std::string> cmd;
      std::size_t used = 0;
      while (!parse(buf, cmd, used)) {
        auto n = ::read(c, chunk, sizeof chunk);
        if (n <= 0) return;
        buf.append(chunk, std::size_t(n));
      }
      buf.erase(0, used);
      {
        std::lock_guard l(mu_);
        log_.push_back(cmd);
      }
      if (auto reply = handler_(cmd)) (void)!::write(c, reply->data(), reply->size());
    }
  }
  static bool parse(const std::string& b, std::vector<std::string>& out, std::size_t& used) {
    auto line = [&](std::size_t& at, char tag, long& n) {
      if (at >= b.size() || b[at] != tag) return false;
      auto end = b.find("\r\n", at);
      if (end == std::string::npos) return false;
      n = std::stol(b.substr(at + 1, end - at - 1));
      at = end + 2;
      return true;
    };
    std::size_t at = 0;
    long count = 0;
    if (!line(at, '*', count)) return false;
    out.clear();
    for (long i = 0; i < count; ++i) {
      long len = 0;
      if (!line(at, '$', len) || b.size() < at + std::size_t(len) + 2) return false;
      out.push_back(b.substr(at, std::size_t(len)));
      at += std::size_t(len) + 2;
    }
    used = at;
    return true;
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accept_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> sessions_;
  std::vector<std::vector<std::string>> log_;
};

std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

constexpr int kTimeoutMs = 100;
constexpr int kBreakerMs = 60'000;  // longer than any test: an opened circuit stays open

TEST(RedisUse, AnUnreachableServerIsAFailureNotAnException) {
  RedisEndpoint ep;
  ep.port = 1;  // nothing listens on port 1
  RedisClient c(ep, 100, 1000);
  RedisUse u(c, "test");
  EXPECT_FALSE(u.command({"GET", "x"}));
  EXPECT_TRUE(u.take_failure_flag());
  EXPECT_FALSE(u.take_failure_flag());
  EXPECT_FALSE(u.command({"GET", "x"}));  // breaker open: skipped without a connect
  EXPECT_FALSE(c.ping());
  auto s = u.status();
  EXPECT_EQ(s.failures, 1u);
  EXPECT_EQ(s.skipped, 1u);
  EXPECT_TRUE(s.circuit_open);
}

TEST(RedisUse, EachUseHasItsOwnCircuitFailureFlagAndStatus) {
  std::atomic<bool> ping_answers{true};
  ScriptedRedis server([&](const std::vector<std::string>& cmd) -> std::optional<std::string> {
    if (cmd[0] == "PING")
      return ping_answers ? std::optional<std::string>("+PONG\r\n") : std::nullopt;
    if (cmd[0] == "BOOM") return "-ERR unknown command\r\n";
    if (cmd.size() > 1 && cmd[1] == "slow") return std::nullopt;
    return bulk("1");
  });
  RedisClient client(server.endpoint(), kTimeoutMs, kBreakerMs);
  RedisUse a(client, "a"), b(client, "b");

  EXPECT_FALSE(a.command({"GET", "slow"}));  // times out: a's circuit opens
  EXPECT_TRUE(a.take_failure_flag());
  auto reply = b.command({"GET", "x"});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->str, "1");
  EXPECT_FALSE(b.take_failure_flag());
  EXPECT_FALSE(a.command({"GET", "x"}));  // skipped, not sent
  EXPECT_EQ(server.received("GET"), 2);
  EXPECT_TRUE(client.ping());  // health is not a's circuit

  // An error reply marks the use (a write may not have applied) but opens no circuit.
  EXPECT_FALSE(b.command({"BOOM"}));
  EXPECT_TRUE(b.take_failure_flag());
  EXPECT_TRUE(b.command({"GET", "x"}));

  // A failed ping switches no use off.
  ping_answers = false;
  EXPECT_FALSE(client.ping());
  EXPECT_TRUE(b.command({"GET", "x"}));
  EXPECT_FALSE(b.take_failure_flag());

  auto uses = client.uses();
  ASSERT_EQ(uses.size(), 2u);
  const auto& sa = uses[0].name == "a" ? uses[0] : uses[1];
  const auto& sb = uses[0].name == "a" ? uses[1] : uses[0];
  EXPECT_TRUE(sa.circuit_open);
  EXPECT_FALSE(sa.last_ok);
  EXPECT_EQ(sa.failures, 1u);
  EXPECT_EQ(sa.skipped, 1u);
  EXPECT_EQ(sa.ok, 0u);
  EXPECT_FALSE(sb.circuit_open);
  EXPECT_TRUE(sb.last_ok);
  EXPECT_EQ(sb.ok, 3u);
  EXPECT_EQ(sb.errors, 1u);
  EXPECT_EQ(sb.failures, 0u);
}

// The two real uses against the scripted server: the cache's GET/SET scripts are served from a
// map, the rate-limit script is answered as `limiter` says.
struct TwoUses : ::testing::Test {
  enum class Limiter { Deny, Stall } limiter = Limiter::Deny;
  std::atomic<bool> stall_cache_reads{false};
  std::mutex mu;
  std::map<std::string, std::string> cached;
  ScriptedRedis server{[this](const std::vector<std::string>& cmd) { return answer(cmd); }};
  testing::MemoryMetadata store;  // the primary store behind the cache
  obs::ServiceMetrics metrics;
  RedisClient client{server.endpoint(), kTimeoutMs, kBreakerMs};
  RedisMetadataCache cache{store, client, metrics};
  RedisRateLimiter limits{client, "t"};
  const std::vector<domain::RateWindow> windows{{10, 60'000}};

  std::optional<std::string> answer(const std::vector<std::string>& cmd) {
    if (cmd[0] == "INCR") return ":1\r\n";
    if (cmd[0] == "PING") return "+PONG\r\n";
    if (cmd[0] != "EVAL") return "-ERR unexpected\r\n";
    const std::string& script = cmd[1];
    if (script.find("'TIME'") != std::string::npos) {
      if (limiter == Limiter::Stall) return std::nullopt;
      return "*3\r\n:0\r\n:1736937000000\r\n" + bulk("0.000000");  // denied, bucket empty
    }
    std::lock_guard l(mu);
    if (script.find("'SET', k") != std::string::npos) {  // versioned write-through
      cached[cmd[3]] = cmd[5] + "|" + cmd[4];
      return ":1\r\n";
    }
    if (script.find("return redis.call('GET'") != std::string::npos) {
      if (stall_cache_reads) return std::nullopt;
      auto it = cached.find(cmd[3]);
      return it == cached.end() ? "$-1\r\n" : bulk(it->second);
    }
    return ":0\r\n";  // the list/generation scripts: nothing cached
  }

  domain::ImageRecord record() {
    domain::ImageRecord r;
    r.id = "01JHCZ5W7Q8Y3T9V6X2B4N0M1K";
    r.user_id = "u1";
    r.original_filename = "a.png";
    r.mime_type = "image/png";
    r.s3_key = "images/u1/" + r.id + ".webp";
    r.s3_bucket = "local";
    r.created_at_ms = r.updated_at_ms = r.uploaded_at_ms = 1736937000000;
    EXPECT_TRUE(store.insert(r).ok());
    return r;
  }
};

TEST_F(TwoUses, AFailingRateLimitScriptDoesNotTakeTheCacheOffRedis) {
  auto rec = record();
  ASSERT_TRUE(cache.get(rec.id));  // miss, written through
  EXPECT_EQ(metrics.metadata_cache_misses.load(), 1u);

  limiter = Limiter::Stall;
  auto d = limits.take("u1:upload", windows, 1736937000000);
  EXPECT_TRUE(d.allowed);  // fallen back to this instance's buckets
  EXPECT_EQ(d.remaining, 9);

  // The cache still reads Redis (a hit), and did not think it lost a write: no new epoch.
  ASSERT_TRUE(cache.get(rec.id));
  EXPECT_EQ(metrics.metadata_cache_hits.load(), 1u);
  EXPECT_EQ(server.received("INCR"), 0);
  EXPECT_EQ(server.received("'TIME'"), 1);
}

TEST_F(TwoUses, ASlowCacheCallDoesNotMakeTheLimiterFallBack) {
  auto rec = record();
  stall_cache_reads = true;
  ASSERT_TRUE(cache.get(rec.id));  // times out: served from the store
  EXPECT_EQ(metrics.metadata_cache_misses.load(), 1u);

  // Redis says the bucket is empty; this instance's own buckets would have allowed it.
  for (int i = 0; i < 3; ++i) {
    auto d = limits.take("u1:upload", windows, 1736937000000);
    EXPECT_FALSE(d.allowed) << i;
  }
  EXPECT_EQ(server.received("'TIME'"), 3);
  EXPECT_TRUE(client.ping());

  auto uses = client.uses();
  ASSERT_EQ(uses.size(), 2u);
  for (const auto& u : uses) {
    if (u.name == "metadata") {
      EXPECT_TRUE(u.circuit_open);
      EXPECT_EQ(u.failures, 1u);
    } else {
      EXPECT_EQ(u.name, "ratelimit");
      EXPECT_FALSE(u.circuit_open);
      EXPECT_EQ(u.ok, 3u);
    }
  }
}

}  // namespace
}  // namespace isvc::cache
