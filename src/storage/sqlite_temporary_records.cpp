// SqliteMetadataStore's temporary records: started direct uploads (with the claim a complete
// holds) and idempotency keys, each expiring at expires_at_ms.
#include "domain/model/error.h"
#include "storage/sqlite_store_impl.h"

namespace isvc::storage {

using domain::Error;
using domain::ErrorCode;
using sqlite::Connection;

void SqliteMetadataStore::put_upload(const domain::UploadRecord& u) {
  impl_->write([&](Connection& c) {
    auto s = c.prepare(
        "REPLACE INTO uploads(id, user_id, fields, created_at_ms, expires_at_ms, "
        "completed_image_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    s.bind(1, std::string_view(u.id)).bind(2, std::string_view(u.user_id));
    s.bind(3, std::string_view(u.fields_json())).bind(4, u.created_at_ms);
    s.bind(5, u.expires_at_ms).bind(6, u.completed_image_id);
    s.run();
  });
}

std::optional<domain::UploadRecord> SqliteMetadataStore::get_upload(const std::string& id,
                                                                    int64_t now_ms) {
  return impl_->read([&](Connection& c) -> std::optional<domain::UploadRecord> {
    auto s = c.prepare(
        "SELECT user_id, fields, created_at_ms, expires_at_ms, completed_image_id FROM uploads "
        "WHERE id = ?1 AND expires_at_ms > ?2");
    s.bind(1, std::string_view(id)).bind(2, now_ms);
    if (!s.step()) return std::nullopt;
    domain::UploadRecord u;
    u.id = id;
    u.user_id = s.text(0);
    if (!u.read_fields_json(s.text(1)))
      throw Error(ErrorCode::StorageFailed, "malformed upload record " + id);
    u.created_at_ms = s.i64(2);
    u.expires_at_ms = s.i64(3);
    u.completed_image_id = s.opt_text(4);
    return u;
  });
}

void SqliteMetadataStore::remove_upload(const std::string& id) {
  impl_->write([&](Connection& c) {
    auto s = c.prepare("DELETE FROM uploads WHERE id = ?1");
    s.bind(1, std::string_view(id));
    s.run();
  });
}

bool SqliteMetadataStore::claim_upload(const std::string& id, int64_t now_ms,
                                       int64_t lease_until_ms) {
  return impl_->write([&](Connection& c) {
    // One conditional statement: the claim is atomic even across processes sharing the file.
    auto s = c.prepare(
        "UPDATE uploads SET claim_until_ms = ?3 WHERE id = ?1 AND expires_at_ms > ?2 AND "
        "completed_image_id IS NULL AND claim_until_ms <= ?2");
    s.bind(1, std::string_view(id)).bind(2, now_ms).bind(3, lease_until_ms);
    s.run();
    return sqlite3_changes(c.raw()) == 1;
  });
}

void SqliteMetadataStore::release_upload(const std::string& id) {
  impl_->write([&](Connection& c) {
    auto s = c.prepare("UPDATE uploads SET claim_until_ms = 0 WHERE id = ?1");
    s.bind(1, std::string_view(id));
    s.run();
  });
}

int64_t SqliteMetadataStore::remove_expired_uploads(int64_t now_ms) {
  return impl_->write([&](Connection& c) { return sqlite::delete_expired(c, "uploads", now_ms); });
}

std::optional<domain::IdempotencyRecord> SqliteMetadataStore::claim_idempotency(
    const domain::IdempotencyRecord& p, int64_t now_ms) {
  return impl_->write([&](Connection& c) -> std::optional<domain::IdempotencyRecord> {
    // Insert, or take over a dead record, in one statement: the claim is atomic even across
    // processes sharing the file.
    auto ins = c.prepare(
        "INSERT INTO idempotency(key, fingerprint, image_id, lease_until_ms, expires_at_ms) "
        "VALUES (?1, ?2, NULL, ?3, ?4) ON CONFLICT(key) DO UPDATE SET "
        "fingerprint = excluded.fingerprint, image_id = NULL, "
        "lease_until_ms = excluded.lease_until_ms, expires_at_ms = excluded.expires_at_ms "
        "WHERE idempotency.expires_at_ms <= ?5 OR "
        "(idempotency.image_id IS NULL AND idempotency.lease_until_ms <= ?5)");
    ins.bind(1, std::string_view(p.key)).bind(2, std::string_view(p.fingerprint));
    ins.bind(3, p.lease_until_ms).bind(4, p.expires_at_ms).bind(5, now_ms);
    ins.run();
    if (sqlite3_changes(c.raw()) == 1) return std::nullopt;
    auto s = c.prepare(
        "SELECT fingerprint, image_id, lease_until_ms, expires_at_ms FROM idempotency "
        "WHERE key = ?1");
    s.bind(1, std::string_view(p.key));
    if (!s.step()) throw Error(ErrorCode::StorageFailed, "idempotency record vanished");
    domain::IdempotencyRecord r;
    r.key = p.key;
    r.fingerprint = s.text(0);
    r.image_id = s.opt_text(1);
    r.lease_until_ms = s.i64(2);
    r.expires_at_ms = s.i64(3);
    return r;
  });
}

void SqliteMetadataStore::complete_idempotency(const std::string& key,
                                               const std::string& image_id) {
  impl_->write([&](Connection& c) {
    auto s = c.prepare("UPDATE idempotency SET image_id = ?2 WHERE key = ?1");
    s.bind(1, std::string_view(key)).bind(2, std::string_view(image_id));
    s.run();
  });
}

void SqliteMetadataStore::release_idempotency(const std::string& key) {
  impl_->write([&](Connection& c) {
    auto s = c.prepare("DELETE FROM idempotency WHERE key = ?1 AND image_id IS NULL");
    s.bind(1, std::string_view(key));
    s.run();
  });
}

int64_t SqliteMetadataStore::remove_expired_idempotency(int64_t now_ms) {
  return impl_->write(
      [&](Connection& c) { return sqlite::delete_expired(c, "idempotency", now_ms); });
}

}  // namespace isvc::storage
