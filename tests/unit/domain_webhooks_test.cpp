// Webhook events and their delivery (domain/webhook_events.h, domain/webhook_delivery.h): the
// Standard Webhooks signature against the specification's published example, backoff, the event
// bodies, and the worker's policy (order, retry, park, refuse, health, metrics) over the in-memory
// outbox with a scripted transport.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <deque>

#include "domain/ports/clock.h"
#include "domain/webhook_delivery.h"
#include "domain/webhook_events.h"
#include "memory_metadata.h"

namespace isvc::domain {
namespace {

TEST(WebhookSignature, MatchesTheStandardWebhooksExample) {
  // The example of the Standard Webhooks specification (its reference libraries test with it).
  auto key = parse_webhook_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key);
  EXPECT_EQ(webhook_signature(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                              R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_NE(webhook_signature(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331,
                              R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignature, SecretsMustHaveTheirPrefixAndBase64) {
  EXPECT_EQ(parse_webhook_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), std::nullopt);
  EXPECT_EQ(parse_webhook_secret("whsec_"), std::nullopt);
  EXPECT_EQ(parse_webhook_secret("whsec_%%%"), std::nullopt);
  EXPECT_EQ(parse_webhook_secret("whsec_YWJj"), std::optional<std::string>("abc"));
}

TEST(WebhookBackoff, DoublesToTheCapWithHalfOfItJittered) {
  EXPECT_EQ(webhook_retry_delay_ms(0, 1000, 60000, 0.0), 500);
  EXPECT_EQ(webhook_retry_delay_ms(0, 1000, 60000, 0.999999), 999);
  EXPECT_EQ(webhook_retry_delay_ms(1, 1000, 60000, 0.0), 1000);
  EXPECT_EQ(webhook_retry_delay_ms(3, 1000, 60000, 0.5), 4000 + 2000);
  EXPECT_EQ(webhook_retry_delay_ms(10, 1000, 60000, 0.0), 30000);    // capped at 60 s, halved
  EXPECT_EQ(webhook_retry_delay_ms(1000, 1000, 60000, 1.0), 60000);  // no overflow
  for (int f = 0; f < 40; ++f) {
    auto lo = webhook_retry_delay_ms(f, 50, 400, 0.0), hi = webhook_retry_delay_ms(f, 50, 400, 1.0);
    EXPECT_GE(lo, 25);
    EXPECT_LE(hi, 400);
    EXPECT_LE(lo, hi);
  }
}

class SeqIds final : public IdGenerator {
 public:
  std::string next() override {
    char b[32];
    std::snprintf(b, sizeof b, "01J00000000000000000%06d", ++n_);
    return b;
  }

 private:
  int n_ = 0;
};

ImageRecord image(const std::string& id, int64_t version) {
  ImageRecord r;
  r.id = id;
  r.user_id = "ann";
  r.version = version;
  return r;
}

TEST(WebhookEvents, BodiesCarryTypeTimestampAndData) {
  ManualClock clock(1736937000123);
  SeqIds ids;
  WebhookEvents ev({"t1", "t2"}, ids, clock, [](const ImageRecord& r) {
    return R"({"id":")" + r.id + R"(","version":)" + std::to_string(r.version) + "}";
  });
  auto created = ev.image_created(image("img", 1));
  ASSERT_EQ(created.size(), 2u);  // one row per target, one event id
  EXPECT_EQ(created[0].target, "t1");
  EXPECT_EQ(created[1].target, "t2");
  EXPECT_EQ(created[0].id, created[1].id);
  EXPECT_EQ(created[0].id, "msg_01J00000000000000000000001");
  EXPECT_EQ(
      created[0].body,
      R"({"type":"image.created","timestamp":"2025-01-15T10:30:00.123Z","data":{"id":"img","version":1}})");
  EXPECT_EQ(created[0].order_key, "img");
  EXPECT_EQ(created[0].seq, 1);
  auto updated = ev.image_updated(image("img", 4));
  EXPECT_EQ(updated[0].seq, 4);
  auto deleted = ev.image_deleted(image("img", 4));
  EXPECT_EQ(deleted[0].seq, 5);  // after every version
  EXPECT_EQ(boost::json::parse(deleted[0].body).at("data"),
            boost::json::parse(R"({"id":"img","userId":"ann"})"));
  auto erased = ev.user_erased("ann");
  EXPECT_EQ(erased[0].type, "user.erased");
  EXPECT_EQ(erased[0].order_key, "user:ann");
  EXPECT_EQ(boost::json::parse(erased[0].body).at("data"),
            boost::json::parse(R"({"userId":"ann"})"));

  int renders = 0;
  WebhookEvents off({}, ids, clock, [&](const ImageRecord&) {
    ++renders;
    return std::string("{}");
  });
  EXPECT_FALSE(off.enabled());
  EXPECT_TRUE(off.image_created(image("img", 1)).empty());
  EXPECT_TRUE(off.user_erased("ann").empty());
  EXPECT_EQ(renders, 0);  // off costs nothing
}

// Answers from a script (then Delivered), and remembers what it was sent.
class ScriptedTransport final : public WebhookTransport {
 public:
  std::deque<TransportResult> script;
  struct Sent {
    std::string url, body;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  std::vector<Sent> sent;
  TransportResult post(const std::string& url,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::string& body) override {
    sent.push_back({url, body, headers});
    if (script.empty()) return {TransportResult::Delivered, 204, ""};
    auto r = script.front();
    script.pop_front();
    return r;
  }
};

struct Fixture {
  ManualClock clock{1'000'000};
  SeqIds ids;
  testing::MemoryMetadata outbox;
  ScriptedTransport transport;
  obs::Logger log{obs::Level::Error, 0};
  WebhookDeliverySettings settings;
  std::unique_ptr<WebhookDelivery> worker;
  WebhookTarget target{"https://hooks.example/in", "tk", "0123456789abcdef",
                       "https://hooks.example:443/in"};
  Fixture() {
    settings.retry_initial_ms = 1000;
    settings.retry_max_ms = 8000;
    settings.retry_for_ms = 60000;
    worker = std::make_unique<WebhookDelivery>(outbox, transport, clock, log,
                                               std::vector<WebhookTarget>{target}, settings, "me");
  }
  std::string header(std::size_t i, const std::string& name) {
    for (const auto& [k, v] : transport.sent.at(i).headers)
      if (k == name) return v;
    return "";
  }
  void record(const std::string& id, const std::string& key, int64_t seq) {
    OutboxEvent e;
    e.target = "tk";
    e.id = id;
    e.type = "image.updated";
    e.order_key = key;
    e.seq = seq;
    e.created_ms = clock.now_ms();
    e.body = R"({"n":")" + id + R"("})";
    outbox.append_events({e});
  }
};

TEST(WebhookDelivery, SignsWithTheStandardHeadersAndAcknowledges) {
  Fixture f;
  f.record("msg_1", "img", 1);
  EXPECT_EQ(f.worker->run_once(0), 1);
  ASSERT_EQ(f.transport.sent.size(), 1u);
  EXPECT_EQ(f.transport.sent[0].url, "https://hooks.example/in");
  EXPECT_EQ(f.header(0, "webhook-id"), "msg_1");
  EXPECT_EQ(f.header(0, "webhook-timestamp"), "1000");
  EXPECT_EQ(f.header(0, "webhook-signature"),
            webhook_signature("0123456789abcdef", "msg_1", 1000, R"({"n":"msg_1"})"));
  EXPECT_EQ(f.header(0, "content-type"), "application/json");
  EXPECT_EQ(f.outbox.pending_events("tk"), 0);
  EXPECT_EQ(f.worker->state(0).delivered.load(), 1u);
  EXPECT_TRUE(f.worker->healthy());
}

TEST(WebhookDelivery, FailuresRetryWithBackoffInOrderThenHealthRecovers) {
  Fixture f;
  f.record("msg_1", "img", 1);
  f.record("msg_2", "img", 2);
  f.transport.script = {{TransportResult::Failed, 503, "answered 503"},
                        {TransportResult::Failed, 0, "timeout"}};
  EXPECT_EQ(f.worker->run_once(0), 1);  // only the head of "img"
  EXPECT_FALSE(f.worker->healthy());
  EXPECT_EQ(f.worker->run_once(0), 0);  // msg_1 waits 500-1000 ms, msg_2 behind it
  f.clock.advance(1000);
  EXPECT_EQ(f.worker->run_once(0), 1);  // second failure: 1000-2000 ms
  f.clock.advance(999);
  EXPECT_EQ(f.worker->run_once(0), 0);
  f.clock.advance(1001);
  EXPECT_EQ(f.worker->run_once(0), 1);  // delivered
  EXPECT_TRUE(f.worker->healthy());
  EXPECT_EQ(f.worker->run_once(0), 1);  // msg_2 now
  std::vector<std::string> order;
  for (std::size_t i = 0; i < f.transport.sent.size(); ++i)
    order.push_back(f.header(i, "webhook-id"));
  EXPECT_EQ(order, (std::vector<std::string>{"msg_1", "msg_1", "msg_1", "msg_2"}));
  EXPECT_EQ(f.worker->state(0).failed.load(), 2u);
  EXPECT_EQ(f.worker->state(0).delivered.load(), 2u);
}

TEST(WebhookDelivery, ParksAfterTheRetryPeriodAndRefusedAtOnce) {
  Fixture f;
  f.record("msg_1", "a", 1);
  for (int i = 0; i < 100; ++i) f.transport.script.push_back({TransportResult::Failed, 500, "500"});
  int attempts = 0;
  for (int guard = 0; guard < 200 && f.outbox.pending_events("tk") > 0; ++guard) {
    attempts += f.worker->run_once(0);
    f.clock.advance(500);
  }
  EXPECT_EQ(f.outbox.pending_events("tk"), 0);
  EXPECT_EQ(f.outbox.parked_events("tk"), 1);
  EXPECT_EQ(f.worker->state(0).parked.load(), 1u);
  // 60 s with delays 0.5-1, 1-2, 2-4, 4-8, then 4-8 s each: between 8 and 16 attempts.
  EXPECT_GE(attempts, 8);
  EXPECT_LE(attempts, 16);

  f.transport.script = {{TransportResult::Refused, 0, "127.0.0.1 is loopback"}};
  f.record("msg_2", "b", 1);
  f.record("msg_3", "b", 2);
  EXPECT_EQ(f.worker->run_once(0), 1);
  EXPECT_EQ(f.outbox.parked_events("tk"), 2);
  EXPECT_EQ(f.worker->run_once(0), 1);  // the parked one no longer holds back "b"
  EXPECT_EQ(f.header(f.transport.sent.size() - 1, "webhook-id"), "msg_3");
}

TEST(WebhookDelivery, MetricsNameTheTargetByItsDisplayUrl) {
  Fixture f;
  f.record("msg_1", "img", 1);
  f.worker->run_once(0);
  obs::TextWriter w;
  f.worker->write_metrics(w);
  auto text = w.take();
  EXPECT_NE(text.find(R"(isvc_webhook_deliveries_total{target="https://hooks.example:443/in"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE isvc_webhook_backlog gauge"), std::string::npos);
}

}  // namespace
}  // namespace isvc::domain
