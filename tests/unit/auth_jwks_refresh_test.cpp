// JWKS refresh under concurrency, with an injected fetcher and clock: a fetch in flight never
// delays a token whose key is known, concurrent unknown kids share one fetch, and an unknown kid
// refetches at most once per JWT jwks_min_refetch_s (SPEC §3: once a minute).
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "auth/token_verifier.h"
#include "base/encoding.h"
#include "domain/model/error.h"

namespace isvc::auth {
namespace {

using namespace std::chrono_literals;
using base::base64url_encode;

constexpr int64_t kNow = 1736937000;

// A one-shot gate with a bounded wait.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool is_open = false;
  void open() {
    {
      std::lock_guard l(mu);
      is_open = true;
    }
    cv.notify_all();
  }
  bool wait_for(std::chrono::milliseconds d) {
    std::unique_lock l(mu);
    return cv.wait_for(l, d, [&] { return is_open; });
  }
};

struct RsaSigner {
  EVP_PKEY* pkey = EVP_RSA_gen(2048);
  ~RsaSigner() { EVP_PKEY_free(pkey); }

  std::string param(const char* name) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(pkey, name, &bn);
    std::string out(std::size_t(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return base64url_encode(out);
  }
  // The same key published under each of the kids.
  std::string jwks(std::initializer_list<const char*> kids) const {
    boost::json::array keys;
    for (const char* kid : kids)
      keys.push_back(boost::json::object{{"kty", "RSA"},
                                         {"kid", kid},
                                         {"alg", "RS256"},
                                         {"n", param(OSSL_PKEY_PARAM_RSA_N)},
                                         {"e", param(OSSL_PKEY_PARAM_RSA_E)}});
    return boost::json::serialize(boost::json::object{{"keys", keys}});
  }
  std::string token(const char* kid) const {
    auto part = [](const boost::json::object& o) {
      return base64url_encode(boost::json::serialize(o));
    };
    std::string input = part({{"alg", "RS256"}, {"kid", kid}}) + "." +
                        part({{"sub", "alice"}, {"iat", kNow}, {"exp", kNow + 3600}});
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey);
    std::size_t len = 0;
    auto in = reinterpret_cast<const unsigned char*>(input.data());
    EVP_DigestSign(ctx, nullptr, &len, in, input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    return input + "." + base64url_encode(sig);
  }
};

// The identity provider's JWKS endpoint: counts fetches and can hold one until released.
struct FakeIdp {
  std::mutex mu;
  std::string doc;
  bool hold = false;
  bool fail = false;
  std::atomic<int> calls{0};
  Gate entered, release;

  void publish(std::string d) {
    std::lock_guard l(mu);
    doc = std::move(d);
  }
  JwksFetch fetcher() {
    return [this](const std::string& url) {
      EXPECT_EQ(url, "https://idp.example/jwks.json");
      ++calls;
      bool h, f;
      {
        std::lock_guard l(mu);
        h = hold;
        f = fail;
      }
      if (h) {
        entered.open();
        release.wait_for(2000ms);  // a slow identity provider: 2 s at most
      }
      if (f) throw std::runtime_error("fetch failed: HTTP 503");
      std::lock_guard l(mu);
      return doc;
    };
  }
};

JwtConfig url_config() {
  JwtConfig c;
  c.jwks_url = "https://idp.example/jwks.json";
  return c;
}

bool verifies(const TokenVerifier& v, const std::string& token) {
  try {
    return v.verify(token).subject == "alice";
  } catch (const domain::Error& e) {
    EXPECT_EQ(e.code(), domain::ErrorCode::Unauthorized);
    return false;
  }
}

struct JwksRefresh : ::testing::Test {
  RsaSigner key;
  FakeIdp idp;
  domain::ManualClock clock{kNow * 1000};
};

TEST_F(JwksRefresh, AFetchInFlightDoesNotDelayATokenWhoseKeyIsKnown) {
  idp.publish(key.jwks({"k1"}));
  TokenVerifier v(url_config(), clock, idp.fetcher());
  ASSERT_TRUE(verifies(v, key.token("k1")));
  ASSERT_EQ(idp.calls.load(), 1);

  clock.advance(61 * 1000);
  idp.publish(key.jwks({"k1", "k2"}));
  idp.hold = true;  // no fetch runs now: set before the thread starts
  bool rotated = false;
  std::thread unknown([&] { rotated = verifies(v, key.token("k2")); });
  ASSERT_TRUE(idp.entered.wait_for(5000ms)) << "the unknown kid did not start a fetch";

  // The fetch is held for up to 2 s; the known kid verifies long before that.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(verifies(v, key.token("k1")));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 500ms) << "known-kid verification waited for the fetch";
  RecordProperty("known_kid_us",
                 int(std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
  EXPECT_EQ(idp.calls.load(), 2);

  idp.release.open();
  unknown.join();
  EXPECT_TRUE(rotated);
  EXPECT_EQ(v.jwks_stats().fetches, 2u);
}

TEST_F(JwksRefresh, ConcurrentUnknownKidsShareOneFetch) {
  idp.publish(key.jwks({"k1"}));
  TokenVerifier v(url_config(), clock, idp.fetcher());
  ASSERT_TRUE(verifies(v, key.token("k1")));
  clock.advance(61 * 1000);
  idp.publish(key.jwks({"k1", "k2"}));
  idp.hold = true;

  constexpr int kThreads = 8;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&] { ok += verifies(v, key.token("k2")) ? 1 : 0; });
  ASSERT_TRUE(idp.entered.wait_for(5000ms));
  // Every other verification joins the fetch in flight (bounded wait for them to get there).
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (v.jwks_stats().joined < kThreads - 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(v.jwks_stats().joined, uint64_t(kThreads - 1));
  idp.release.open();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads);  // each got the key the one fetch brought
  EXPECT_EQ(idp.calls.load(), 2);  // the first fetch and one refetch
  EXPECT_EQ(v.jwks_stats().fetches, 2u);
}

TEST_F(JwksRefresh, AnUnknownKidRefetchesAtMostOncePerMinute) {
  idp.publish(key.jwks({"k1"}));
  TokenVerifier v(url_config(), clock, idp.fetcher());
  ASSERT_TRUE(verifies(v, key.token("k1")));
  ASSERT_EQ(idp.calls.load(), 1);

  idp.publish(key.jwks({"k1", "k2"}));
  EXPECT_FALSE(verifies(v, key.token("k2")));  // the first fetch was just now
  clock.advance(59 * 1000);
  EXPECT_FALSE(verifies(v, key.token("k2")));
  EXPECT_EQ(idp.calls.load(), 1);
  clock.advance(1000);  // 60 s after the last fetch
  EXPECT_TRUE(verifies(v, key.token("k2")));
  EXPECT_EQ(idp.calls.load(), 2);

  idp.publish(key.jwks({"k1", "k2", "k3"}));
  EXPECT_FALSE(verifies(v, key.token("k3")));
  EXPECT_TRUE(verifies(v, key.token("k1")));
  EXPECT_EQ(idp.calls.load(), 2);
  clock.advance(60 * 1000);
  EXPECT_TRUE(verifies(v, key.token("k3")));
  EXPECT_EQ(idp.calls.load(), 3);

  // A known kid with a bad signature is not a reason to fetch.
  clock.advance(60 * 1000);
  auto bad = key.token("k1");
  bad.back() = bad.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifies(v, bad));
  EXPECT_EQ(idp.calls.load(), 3);

  // A failed fetch keeps the keys there were, and counts for the minute.
  idp.fail = true;
  EXPECT_FALSE(verifies(v, key.token("k4")));
  EXPECT_EQ(idp.calls.load(), 4);
  EXPECT_TRUE(verifies(v, key.token("k3")));
  clock.advance(30 * 1000);
  EXPECT_FALSE(verifies(v, key.token("k4")));
  EXPECT_EQ(idp.calls.load(), 4);
}

TEST_F(JwksRefresh, ATokenVerifiedEarlierIsRefusedOnceItsKeyIsWithdrawn) {
  idp.publish(key.jwks({"k1"}));
  TokenVerifier v(url_config(), clock, idp.fetcher());
  auto t1 = key.token("k1");
  ASSERT_TRUE(verifies(v, t1));
  ASSERT_TRUE(verifies(v, t1));  // remembered
  EXPECT_EQ(idp.calls.load(), 1);
  clock.advance(61 * 1000);
  idp.publish(key.jwks({"k2"}));              // the identity provider withdrew k1
  ASSERT_TRUE(verifies(v, key.token("k2")));  // an unknown kid: the refetch brings the new set
  EXPECT_EQ(idp.calls.load(), 2);
  EXPECT_FALSE(verifies(v, t1));  // not from memory: the keys that verified it are gone
}

TEST_F(JwksRefresh, AFailedFirstFetchIsRetriedAfterTheInterval) {
  idp.publish(key.jwks({"k1"}));
  idp.fail = true;
  TokenVerifier v(url_config(), clock, idp.fetcher());
  EXPECT_FALSE(verifies(v, key.token("k1")));
  EXPECT_FALSE(verifies(v, key.token("k1")));
  EXPECT_EQ(idp.calls.load(), 1);
  idp.fail = false;
  clock.advance(60 * 1000);
  EXPECT_TRUE(verifies(v, key.token("k1")));
  EXPECT_EQ(idp.calls.load(), 2);
}

}  // namespace
}  // namespace isvc::auth
