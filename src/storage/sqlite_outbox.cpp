// SqliteMetadataStore's webhook outbox (domain/ports/event_outbox.h): rows of webhook_outbox,
// written by the image writes in their own transactions (record_events) and claimed by the
// delivery worker with conditional UPDATEs. Processes sharing the file serialise on its write lock
// (BEGIN IMMEDIATE), so a claim is one claimant's.
#include <sqlite3.h>

#include "storage/sqlite_db.h"
#include "storage/sqlite_metadata_store.h"
#include "storage/sqlite_store_impl.h"

namespace isvc::storage {

using sqlite::Connection;
using sqlite::Transaction;

namespace sqlite {

void record_events(Connection& c, const std::vector<domain::OutboxEvent>& events) {
  if (events.empty()) return;
  for (const auto& e : events) {
    // Prepared per row: a cached statement is reset when its handle goes.
    auto s = c.prepare(
        "INSERT OR IGNORE INTO webhook_outbox(target, id, type, order_key, seq, created_at_ms, "
        "body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    s.bind(1, std::string_view(e.target)).bind(2, std::string_view(e.id));
    s.bind(3, std::string_view(e.type)).bind(4, std::string_view(e.order_key));
    s.bind(5, e.seq).bind(6, e.created_ms).bind(7, std::string_view(e.body));
    s.run();
  }
}

}  // namespace sqlite

void SqliteMetadataStore::append_events(const std::vector<domain::OutboxEvent>& events) {
  impl_->write([&](Connection& c) {
    Transaction tx(c);
    sqlite::record_events(c, events);
    tx.commit();
  });
}

std::vector<domain::OutboxEvent> SqliteMetadataStore::claim_events(const std::string& target,
                                                                   const std::string& owner,
                                                                   int64_t now_ms,
                                                                   int64_t lease_until_ms,
                                                                   int limit) {
  return impl_->write([&](Connection& c) {
    Transaction tx(c);
    // The head of each order key (no unparked row of the key before it), due and not leased,
    // longest due first (domain::outbox_due_before; a new row's next_attempt_ms is 0).
    auto q = c.prepare(
        "SELECT id, type, order_key, seq, created_at_ms, body, attempts, next_attempt_ms "
        "FROM webhook_outbox o WHERE target = ?1 AND parked = 0 AND next_attempt_ms <= ?2 "
        "AND lease_until_ms < ?2 AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE "
        "p.target = o.target AND p.parked = 0 AND p.order_key = o.order_key AND p.seq < o.seq) "
        "ORDER BY max(next_attempt_ms, created_at_ms), created_at_ms, id LIMIT ?3");
    q.bind(1, std::string_view(target)).bind(2, now_ms).bind(3, int64_t(limit));
    std::vector<domain::OutboxEvent> out;
    while (q.step()) {
      domain::OutboxEvent e;
      e.target = target;
      e.id = q.text(0);
      e.type = q.text(1);
      e.order_key = q.text(2);
      e.seq = q.i64(3);
      e.created_ms = q.i64(4);
      e.body = q.text(5);
      e.attempts = int(q.i64(6));
      e.next_attempt_ms = q.i64(7);
      out.push_back(std::move(e));
    }
    std::vector<domain::OutboxEvent> claimed;
    for (auto& e : out) {
      auto lease = c.prepare(
          "UPDATE webhook_outbox SET lease_owner = ?3, lease_until_ms = ?4 "
          "WHERE target = ?1 AND id = ?2 AND lease_until_ms < ?5 AND parked = 0");
      lease.bind(1, std::string_view(target)).bind(2, std::string_view(e.id));
      lease.bind(3, std::string_view(owner)).bind(4, lease_until_ms).bind(5, now_ms);
      lease.run();
      if (sqlite3_changes(c.raw()) == 1) claimed.push_back(std::move(e));
    }
    tx.commit();
    return claimed;
  });
}

namespace {
// Runs `sql` (?1 target, ?2 id, ?3 owner, then `more`) on the row `owner` holds; true if it did.
template <class Bind>
bool on_leased(Connection& c, const char* sql, const std::string& target, const std::string& id,
               const std::string& owner, Bind&& more) {
  auto s = c.prepare(sql);
  s.bind(1, std::string_view(target))
      .bind(2, std::string_view(id))
      .bind(3, std::string_view(owner));
  more(s);
  s.run();
  return sqlite3_changes(c.raw()) == 1;
}
}  // namespace

bool SqliteMetadataStore::ack_event(const domain::OutboxEvent& e, const std::string& owner) {
  return impl_->write([&](Connection& c) {
    return on_leased(c,
                     "DELETE FROM webhook_outbox WHERE target = ?1 AND id = ?2 AND "
                     "lease_owner = ?3 AND parked = 0",
                     e.target, e.id, owner, [](auto&) {});
  });
}

bool SqliteMetadataStore::retry_event(const domain::OutboxEvent& e, const std::string& owner,
                                      int64_t next_attempt_ms) {
  return impl_->write([&](Connection& c) {
    return on_leased(c,
                     "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_ms = ?4, "
                     "lease_owner = '', lease_until_ms = 0 WHERE target = ?1 AND id = ?2 AND "
                     "lease_owner = ?3 AND parked = 0",
                     e.target, e.id, owner, [&](auto& s) { s.bind(4, next_attempt_ms); });
  });
}

bool SqliteMetadataStore::park_event(const domain::OutboxEvent& e, const std::string& owner,
                                     const std::string& reason) {
  return impl_->write([&](Connection& c) {
    return on_leased(c,
                     "UPDATE webhook_outbox SET parked = 1, reason = ?4, lease_owner = '', "
                     "lease_until_ms = 0 WHERE target = ?1 AND id = ?2 AND lease_owner = ?3 AND "
                     "parked = 0",
                     e.target, e.id, owner, [&](auto& s) { s.bind(4, std::string_view(reason)); });
  });
}

int64_t SqliteMetadataStore::pending_events(const std::string& target) {
  return impl_->read([&](Connection& c) {
    auto s = c.prepare("SELECT count(*) FROM webhook_outbox WHERE target = ?1 AND parked = 0");
    s.bind(1, std::string_view(target));
    return s.step() ? s.i64(0) : int64_t(0);
  });
}

int64_t SqliteMetadataStore::parked_events(const std::string& target) {
  return impl_->read([&](Connection& c) {
    auto s = c.prepare("SELECT count(*) FROM webhook_outbox WHERE target = ?1 AND parked = 1");
    s.bind(1, std::string_view(target));
    return s.step() ? s.i64(0) : int64_t(0);
  });
}

}  // namespace isvc::storage
