#include "domain/webhook_delivery.h"

#include <random>

#include "domain/webhook_events.h"

namespace isvc::domain {

WebhookDelivery::WebhookDelivery(EventOutbox& outbox, WebhookTransport& transport,
                                 const Clock& clock, const obs::Logger& log,
                                 std::vector<WebhookTarget> targets,
                                 WebhookDeliverySettings settings, std::string owner)
    : outbox_(outbox),
      transport_(transport),
      clock_(clock),
      log_(log),
      targets_(std::move(targets)),
      s_(settings),
      owner_(std::move(owner)) {
  for (std::size_t i = 0; i < targets_.size(); ++i)
    states_.push_back(std::make_unique<TargetState>());
}

WebhookDelivery::~WebhookDelivery() {
  stop();
}

void WebhookDelivery::start() {
  for (std::size_t i = 0; i < targets_.size(); ++i) threads_.emplace_back([this, i] { loop(i); });
}

void WebhookDelivery::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void WebhookDelivery::wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

void WebhookDelivery::loop(std::size_t i) {
  int64_t last_recover = 0;
  int64_t last_backlog = -s_.backlog_every_ms;
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      seen = wakes_;
    }
    int claimed = 0;
    try {
      if (i == 0 && clock_.now_ms() - last_recover >= s_.recover_every_ms) {
        last_recover = clock_.now_ms();
        if (auto n = outbox_.recover_events())
          log_.info("webhook_events_recovered", {{"events", n}});
      }
      claimed = run_once(i);
      if (claimed > 0 || clock_.now_ms() - last_backlog >= s_.backlog_every_ms) {
        last_backlog = clock_.now_ms();
        states_[i]->backlog.store(outbox_.pending_events(targets_[i].key));
      }
    } catch (const std::exception& e) {
      log_.warn("webhook_outbox_failed", {{"target", targets_[i].label}, {"what", e.what()}});
    }
    if (claimed > 0) continue;  // more may be due at once
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(s_.poll_ms),
                 [&] { return stop_ || wakes_ != seen; });
  }
}

int WebhookDelivery::run_once(std::size_t i) {
  int64_t now = clock_.now_ms();
  auto events = outbox_.claim_events(targets_[i].key, owner_, now, now + lease_ms(), s_.batch);
  for (const auto& e : events) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;  // the rest are claimed again when their leases run out
    }
    settle(i, e);
  }
  return int(events.size());
}

void WebhookDelivery::settle(std::size_t i, const OutboxEvent& e) {
  const auto& t = targets_[i];
  auto& st = *states_[i];
  int64_t ts = clock_.now_s();
  std::vector<std::pair<std::string, std::string>> headers{
      {"content-type", "application/json"},
      {"webhook-id", e.id},
      {"webhook-timestamp", std::to_string(ts)},
      {"webhook-signature", webhook_signature(t.secret, e.id, ts, e.body)},
  };
  auto r = transport_.post(t.url, headers, e.body);
  if (r.kind == TransportResult::Delivered) {
    outbox_.ack_event(e, owner_);
    st.delivered.fetch_add(1);
    if (st.failing.exchange(false)) log_.info("webhook_target_recovered", {{"target", t.label}});
    return;
  }
  if (r.kind == TransportResult::Refused) {
    outbox_.park_event(e, owner_, "refused: " + r.detail);
    st.parked.fetch_add(1);
    log_.warn("webhook_refused",
              {{"target", t.label}, {"eventId", e.id}, {"type", e.type}, {"reason", r.detail}});
    return;
  }
  st.failed.fetch_add(1);
  st.failing.store(true);
  int64_t now = clock_.now_ms();
  if (now - e.created_ms >= s_.retry_for_ms) {
    outbox_.park_event(e, owner_, "retry period over: " + r.detail);
    st.parked.fetch_add(1);
    log_.warn("webhook_parked", {{"target", t.label},
                                 {"eventId", e.id},
                                 {"type", e.type},
                                 {"attempts", e.attempts + 1},
                                 {"reason", r.detail}});
    return;
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  int64_t delay = webhook_retry_delay_ms(e.attempts, s_.retry_initial_ms, s_.retry_max_ms, u);
  // Never past the retry period's end by more than one attempt: the last try falls inside it.
  delay = std::min(delay, std::max<int64_t>(0, e.created_ms + s_.retry_for_ms - now));
  outbox_.retry_event(e, owner_, now + delay);
  log_.info("webhook_attempt_failed", {{"target", t.label},
                                       {"eventId", e.id},
                                       {"attempt", e.attempts + 1},
                                       {"status", r.status},
                                       {"reason", r.detail},
                                       {"retryInMs", delay}});
}

bool WebhookDelivery::healthy() {
  for (const auto& st : states_)
    if (st->failing.load()) return false;
  return true;
}

void WebhookDelivery::write_metrics(obs::TextWriter& w) const {
  std::vector<std::pair<obs::LabelValues, double>> delivered, failed, parked, backlog;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    obs::LabelValues l{targets_[i].label};
    delivered.push_back({l, double(states_[i]->delivered.load())});
    failed.push_back({l, double(states_[i]->failed.load())});
    parked.push_back({l, double(states_[i]->parked.load())});
    backlog.push_back({l, double(states_[i]->backlog.load())});
  }
  w.family("isvc_webhook_deliveries_total", "Webhook events delivered (2xx), by target.", "counter",
           {"target"}, delivered);
  w.family("isvc_webhook_failed_attempts_total",
           "Webhook delivery attempts that failed (no answer, timeout, non-2xx) and will be or "
           "were retried, by target.",
           "counter", {"target"}, failed);
  w.family("isvc_webhook_parked_total",
           "Webhook events given up on by this instance (refused target, or the retry period "
           "over), by target.",
           "counter", {"target"}, parked);
  w.family("isvc_webhook_backlog",
           "Webhook events of the target not yet delivered nor parked (whole outbox, all "
           "instances), as last seen by this instance.",
           "gauge", {"target"}, backlog);
}

}  // namespace isvc::domain
