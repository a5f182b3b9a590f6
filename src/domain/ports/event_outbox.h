// Port: the webhook outbox. Events are recorded by the image writes themselves (ImageRepository
// takes them with the change, so both land together or neither does); this port is what the
// delivery worker does with them afterwards: claim with a lease, acknowledge, reschedule, park.
// Adapters: storage/sqlite_metadata_store, storage/dynamodb_metadata_store (and the decorators);
// tests/conformance/metadata_store_test.cpp holds them to the same rules.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace isvc::domain {

// One event for one target. The same event (same id) goes to every target, one row each, so each
// target has its own attempts and schedule.
struct OutboxEvent {
  std::string target;     // the target's key (domain::webhook_target_key of its URL)
  std::string id;         // "msg_" + ULID: the webhook-id header
  std::string type;       // image.created, image.updated, image.deleted, user.erased
  std::string order_key;  // events with one key are delivered in seq order (the image id)
  int64_t seq = 0;        // position within order_key (the image version the event describes)
  int64_t created_ms = 0;
  std::string body;  // the JSON body as sent
  // Delivery state, as read by claim().
  int attempts = 0;
  int64_t next_attempt_ms = 0;
  bool operator==(const OutboxEvent&) const = default;
};

// The order claims serve due events in: the one due longest first (a new event is due from when it
// was recorded, a retried one from its next attempt), then the older, then by id. Ordering by age
// alone let a few events that keep failing and coming due again take every claim while a younger
// event of another image waited behind them for as long as the target failed.
inline int64_t outbox_due_since(const OutboxEvent& e) {
  return std::max(e.created_ms, e.next_attempt_ms);
}
inline bool outbox_due_before(const OutboxEvent& a, const OutboxEvent& b) {
  return std::tuple(outbox_due_since(a), a.created_ms, std::string_view(a.id)) <
         std::tuple(outbox_due_since(b), b.created_ms, std::string_view(b.id));
}

// The events one write records with its change.
using Events = std::vector<OutboxEvent>;

class EventOutbox {
 public:
  virtual ~EventOutbox() = default;

  // Records events that belong to no image write (user.erased), in one write.
  virtual void append_events(const std::vector<OutboxEvent>& events) = 0;

  // Up to `limit` events of `target` that are due (next attempt at or before now), not leased by
  // anyone (or their lease ran out), and first in their order_key among the target's unparked
  // events; each leased to `owner` until lease_until_ms with a conditional write, so two
  // claimants never both get one event while its lease runs. In outbox_due_before order.
  virtual std::vector<OutboxEvent> claim_events(const std::string& target, const std::string& owner,
                                                int64_t now_ms, int64_t lease_until_ms,
                                                int limit) = 0;
  // Delivered: the event goes. False when `owner` no longer holds the lease (then nothing changes).
  // `e` is the event as claim_events returned it (target, id, order_key and seq name its row).
  virtual bool ack_event(const OutboxEvent& e, const std::string& owner) = 0;
  // Failed, to be tried again at next_attempt_ms: releases the lease and counts the attempt.
  virtual bool retry_event(const OutboxEvent& e, const std::string& owner,
                           int64_t next_attempt_ms) = 0;
  // Given up: kept for inspection, never claimed again, and no longer holds back its order_key.
  virtual bool park_event(const OutboxEvent& e, const std::string& owner,
                          const std::string& reason) = 0;
  // Undelivered and unparked events of the target (the backlog gauge); adapters may cap it.
  virtual int64_t pending_events(const std::string& target) = 0;
  virtual int64_t parked_events(const std::string& target) = 0;
  // Moves events that a crash left beside their record into the outbox (DynamoDB, where they
  // ride in the record's own conditional write); returns how many. Nothing to do elsewhere.
  virtual int64_t recover_events() { return 0; }
};

}  // namespace isvc::domain
