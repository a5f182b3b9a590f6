// The webhook delivery worker: one thread per target claims due events from the outbox (a lease,
// so instances never send one event at once), signs and sends them, and settles each: delivered →
// gone; failed → retried with backoff until the retry period is over, then parked; refused →
// parked at once. Order per image follows from the claim (only the first undelivered event of an
// image is ever due). Reports /health ("webhooks" down while a target's deliveries fail) and
// /metrics (delivered, failed attempts, parked, backlog).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "domain/ports/backend_health.h"
#include "domain/ports/clock.h"
#include "domain/ports/event_outbox.h"
#include "domain/ports/webhook_transport.h"
#include "obs/logger.h"
#include "obs/prometheus.h"

namespace isvc::domain {

struct WebhookTarget {
  std::string url;
  std::string key;     // webhook_target_key(url)
  std::string secret;  // the raw key bytes (from whsec_…)
  std::string label;   // for logs and metrics: the URL without user info and query
};

struct WebhookDeliverySettings {
  int64_t retry_for_ms = 24 * 3600 * 1000;  // WEBHOOK_RETRY_FOR_S
  int64_t retry_initial_ms = 5000;          // WEBHOOK_RETRY_INITIAL_MS
  int64_t retry_max_ms = 15 * 60 * 1000;    // WEBHOOK_RETRY_MAX_MS
  int64_t poll_ms = 1000;                   // WEBHOOK_POLL_MS
  int64_t attempt_timeout_ms = 10000;       // WEBHOOK_TIMEOUT_MS (the transport's total)
  int batch = 8;                            // events claimed per pass
  int64_t recover_every_ms = 600000;  // DynamoDB: events a crash left beside a record (a Scan)
  // The backlog gauge is counted after every batch delivered, and while idle at most this often
  // (counting reads every outbox partition of the target: one Query each in DynamoDB).
  int64_t backlog_every_ms = 1000;
};

class WebhookDelivery final : public BackendHealth, public obs::MetricsSource {
 public:
  WebhookDelivery(EventOutbox& outbox, WebhookTransport& transport, const Clock& clock,
                  const obs::Logger& log, std::vector<WebhookTarget> targets,
                  WebhookDeliverySettings settings, std::string owner);
  ~WebhookDelivery() override;

  void start();  // the threads; stop() (or the destructor) ends them after their current send
  void stop();
  void wake();  // an event was just recorded here: look now rather than at the next poll

  // One pass for target `i`: claims what is due and settles it. Returns how many were claimed.
  int run_once(std::size_t i);

  // The lease of a claim: the whole batch's worst case, plus slack for the store calls.
  int64_t lease_ms() const { return s_.attempt_timeout_ms * s_.batch + 5000; }

  std::string name() const override { return "webhooks"; }
  bool healthy() override;
  void write_metrics(obs::TextWriter& w) const override;

  struct TargetState {
    std::atomic<uint64_t> delivered{0}, failed{0}, parked{0};
    std::atomic<int64_t> backlog{0};
    std::atomic<bool> failing{false};
  };
  const TargetState& state(std::size_t i) const { return *states_[i]; }

 private:
  void settle(std::size_t i, const OutboxEvent& e);
  void loop(std::size_t i);

  EventOutbox& outbox_;
  WebhookTransport& transport_;
  const Clock& clock_;
  const obs::Logger& log_;
  std::vector<WebhookTarget> targets_;
  WebhookDeliverySettings s_;
  std::string owner_;
  std::vector<std::unique_ptr<TargetState>> states_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint64_t wakes_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace isvc::domain
