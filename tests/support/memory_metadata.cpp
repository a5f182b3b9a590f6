#include "memory_metadata.h"

#include <algorithm>

#include "domain/model/error.h"
#include "domain/model/object_keys.h"

namespace isvc::testing {

using domain::ImageRecord;
using domain::ImageState;
using domain::ImportOutcome;
using domain::WriteResult;

namespace {

int64_t key_of(const ImageRecord& r, domain::SortBy by) {
  return by == domain::SortBy::TakenAt ? domain::taken_sort_key(r) : r.uploaded_at_ms;
}

bool past(const ImageRecord& r, const domain::ListPosition& p, const domain::ListQuery& q) {
  auto k = key_of(r, q.sort_by);
  auto here = std::tie(k, r.id);
  auto there = std::tie(p.uploaded_at_ms, p.id);
  return q.ascending ? here > there : here < there;
}

}  // namespace

const char* MemoryMetadata::conflicting_key(const ImageRecord& r) const {
  auto own = domain::user_key_prefix(r.user_id);
  auto check = [&](const std::string& key) {
    if (key.rfind(own, 0) == 0) return false;       // the owner's own folder
    if (key.rfind("images/", 0) == 0) return true;  // another user's folder
    for (const auto& [id, o] : rows)
      if (o.user_id != r.user_id && (o.s3_key == key || o.thumbnail_key == key)) return true;
    return false;
  };
  if (check(r.s3_key)) return "s3Key";
  if (r.thumbnail_key && check(*r.thumbnail_key)) return "thumbnailKey";
  return nullptr;
}

WriteResult MemoryMetadata::insert(const ImageRecord& rec, const domain::Events& events) {
  std::lock_guard l(mu_);
  if (fail_insert) throw domain::Error(domain::ErrorCode::StorageFailed, "disk full");
  if (rows.count(rec.id)) return WriteResult::id_exists();
  if (auto f = conflicting_key(rec)) return WriteResult::key_conflict(f);
  rows.emplace(rec.id, rec);
  record(events);
  return {};
}

std::optional<ImageRecord> MemoryMetadata::get(const std::string& id) {
  std::lock_guard l(mu_);
  auto it = rows.find(id);
  if (it == rows.end()) return std::nullopt;
  return it->second;
}

WriteResult MemoryMetadata::update(const ImageRecord& rec, int64_t expected_version,
                                   const domain::Events& events) {
  std::lock_guard l(mu_);
  auto it = rows.find(rec.id);
  if (it == rows.end() || it->second.state != ImageState::Active) return WriteResult::not_found();
  if (it->second.version != expected_version)
    return WriteResult::version_mismatch(it->second.version);
  if (auto f = conflicting_key(rec)) return WriteResult::key_conflict(f);
  // The variant list is the store's: a write from an older read never drops an entry.
  auto variant_keys = it->second.variant_keys;
  auto variant_rev = it->second.variant_rev;
  it->second = rec;
  if (variant_keys) {
    it->second.variant_keys = variant_keys;
    it->second.variant_rev = variant_rev;
  }
  it->second.state = ImageState::Active;
  record(events);
  return {};
}

std::optional<ImageRecord> MemoryMetadata::mark_deleting(const std::string& id,
                                                         const domain::Events& events) {
  std::lock_guard l(mu_);
  auto it = rows.find(id);
  if (it == rows.end()) return std::nullopt;
  if (it->second.state == ImageState::Active) record(events);
  it->second.state = ImageState::Deleting;
  return it->second;
}

bool MemoryMetadata::note_variant(const std::string& id, const std::string& key) {
  std::lock_guard l(mu_);
  auto it = rows.find(id);
  if (it == rows.end() || it->second.state != ImageState::Active) return false;
  auto& keys = it->second.variant_keys;
  if (keys && std::find(keys->begin(), keys->end(), key) == keys->end()) {
    keys->push_back(key);
    std::sort(keys->begin(), keys->end());
  }
  if (keys) ++it->second.variant_rev;
  return true;
}

bool MemoryMetadata::remove(const std::string& id) {
  std::lock_guard l(mu_);
  return rows.erase(id) > 0;
}

bool MemoryMetadata::matches(const ImageRecord& r, const domain::ListQuery& q) const {
  if (r.user_id != q.user_id || r.state != q.state) return false;
  if (q.state != ImageState::Active) return true;  // deletes: only the user counts
  if (q.album_id && r.album_id != q.album_id) return false;
  if (q.tag && std::find(r.tags.begin(), r.tags.end(), *q.tag) == r.tags.end()) return false;
  if (q.sha256 && r.sha256 != q.sha256) return false;
  return true;
}

domain::ListPage MemoryMetadata::list(const domain::ListQuery& q) {
  std::lock_guard l(mu_);
  std::vector<ImageRecord> all;
  for (const auto& [id, r] : rows)
    if (matches(r, q) && (!q.after || past(r, *q.after, q))) all.push_back(r);
  std::sort(all.begin(), all.end(), [&](const ImageRecord& a, const ImageRecord& b) {
    auto ka = key_of(a, q.sort_by), kb = key_of(b, q.sort_by);
    return std::tie(ka, a.id) < std::tie(kb, b.id);
  });
  if (!q.ascending) std::reverse(all.begin(), all.end());
  domain::ListPage page;
  std::size_t limit = std::size_t(std::max(0, q.limit));
  page.has_more = all.size() > limit;
  if (page.has_more) all.resize(limit);
  page.items = std::move(all);
  return page;
}

int64_t MemoryMetadata::count(const domain::ListQuery& q) {
  std::lock_guard l(mu_);
  int64_t n = 0;
  for (const auto& [id, r] : rows) n += matches(r, q);
  return n;
}

domain::StoreStats MemoryMetadata::stats(int64_t since_ms) {
  std::lock_guard l(mu_);
  domain::StoreStats s;
  int64_t day = since_ms - since_ms % 86'400'000;
  for (const auto& [id, r] : rows) {
    if (r.state != ImageState::Active) continue;
    ++s.total_images;
    s.total_bytes += r.processed_size + r.thumbnail_size;
    s.uploaded_since += r.uploaded_at_ms >= day;
  }
  return s;
}

void MemoryMetadata::scan(const std::function<bool(const ImageRecord&)>& visit) {
  std::vector<ImageRecord> all;
  {
    std::lock_guard l(mu_);
    for (const auto& [id, r] : rows) all.push_back(r);
  }
  for (const auto& r : all)
    if (!visit(r)) return;
}

std::vector<ImportOutcome> MemoryMetadata::import_batch(const std::vector<ImageRecord>& records) {
  std::lock_guard l(mu_);
  std::vector<ImportOutcome> out;
  for (const auto& rec : records) {
    auto it = rows.find(rec.id);
    if (it != rows.end() && it->second.user_id != rec.user_id) {
      out.push_back(ImportOutcome::OwnerConflict);
      continue;
    }
    if (it != rows.end() &&
        (it->second.state != ImageState::Active || rec.updated_at_ms <= it->second.updated_at_ms)) {
      out.push_back(ImportOutcome::Unchanged);
      continue;
    }
    if (conflicting_key(rec)) {
      out.push_back(ImportOutcome::KeyConflict);
      continue;
    }
    ImageRecord next = rec;
    next.state = ImageState::Active;
    next.version = it != rows.end() ? it->second.version + 1 : rec.version;
    if (it != rows.end()) domain::keep_placeholders(it->second, next);
    out.push_back(it != rows.end() ? ImportOutcome::Updated : ImportOutcome::Created);
    rows[rec.id] = next;
  }
  return out;
}

void MemoryMetadata::put_upload(const domain::UploadRecord& u) {
  std::lock_guard l(mu_);
  uploads[u.id] = u;
  upload_claims_.erase(u.id);
}

std::optional<domain::UploadRecord> MemoryMetadata::get_upload(const std::string& id,
                                                               int64_t now_ms) {
  std::lock_guard l(mu_);
  auto it = uploads.find(id);
  if (it == uploads.end() || it->second.expires_at_ms <= now_ms) return std::nullopt;
  return it->second;
}

void MemoryMetadata::remove_upload(const std::string& id) {
  std::lock_guard l(mu_);
  uploads.erase(id);
  upload_claims_.erase(id);
}

int64_t MemoryMetadata::remove_expired_uploads(int64_t now_ms) {
  std::lock_guard l(mu_);
  return int64_t(
      std::erase_if(uploads, [&](const auto& kv) { return kv.second.expires_at_ms <= now_ms; }));
}

bool MemoryMetadata::claim_upload(const std::string& id, int64_t now_ms, int64_t lease_until_ms) {
  std::lock_guard l(mu_);
  auto it = uploads.find(id);
  if (it == uploads.end() || it->second.expires_at_ms <= now_ms || it->second.completed_image_id)
    return false;
  auto c = upload_claims_.find(id);
  if (c != upload_claims_.end() && c->second > now_ms) return false;
  upload_claims_[id] = lease_until_ms;
  return true;
}

void MemoryMetadata::release_upload(const std::string& id) {
  std::lock_guard l(mu_);
  upload_claims_.erase(id);
}

std::optional<domain::IdempotencyRecord> MemoryMetadata::claim_idempotency(
    const domain::IdempotencyRecord& pending, int64_t now_ms) {
  std::lock_guard l(mu_);
  auto it = idempotency.find(pending.key);
  if (it != idempotency.end() && it->second.expires_at_ms > now_ms &&
      (it->second.image_id || it->second.lease_until_ms > now_ms))
    return it->second;
  idempotency[pending.key] = pending;
  return std::nullopt;
}

void MemoryMetadata::complete_idempotency(const std::string& key, const std::string& image_id) {
  std::lock_guard l(mu_);
  auto it = idempotency.find(key);
  if (it != idempotency.end()) it->second.image_id = image_id;
}

void MemoryMetadata::release_idempotency(const std::string& key) {
  std::lock_guard l(mu_);
  auto it = idempotency.find(key);
  if (it != idempotency.end() && !it->second.image_id) idempotency.erase(it);  // keeps results
}

int64_t MemoryMetadata::remove_expired_idempotency(int64_t now_ms) {
  std::lock_guard l(mu_);
  return int64_t(std::erase_if(idempotency,
                               [&](const auto& kv) { return kv.second.expires_at_ms <= now_ms; }));
}

}  // namespace isvc::testing

namespace isvc::testing {

void MemoryMetadata::record(const domain::Events& events) {
  for (const auto& e : events) {
    OutboxRow row;
    row.event = e;
    outbox.emplace(std::pair{e.target, e.id}, std::move(row));
  }
}

void MemoryMetadata::append_events(const std::vector<domain::OutboxEvent>& events) {
  std::lock_guard l(mu_);
  record(events);
}

std::vector<domain::OutboxEvent> MemoryMetadata::claim_events(const std::string& target,
                                                              const std::string& owner,
                                                              int64_t now_ms,
                                                              int64_t lease_until_ms, int limit) {
  std::lock_guard l(mu_);
  // The head of each order key among the target's unparked rows.
  std::map<std::string, OutboxRow*> heads;
  for (auto& [k, row] : outbox) {
    if (k.first != target || row.parked) continue;
    auto& h = heads[row.event.order_key];
    if (!h || row.event.seq < h->event.seq) h = &row;
  }
  std::vector<OutboxRow*> due;
  for (auto& [key, row] : heads)
    if (row->event.next_attempt_ms <= now_ms && row->lease_until_ms < now_ms) due.push_back(row);
  std::sort(due.begin(), due.end(),
            [](auto* a, auto* b) { return domain::outbox_due_before(a->event, b->event); });
  std::vector<domain::OutboxEvent> out;
  for (auto* row : due) {
    if (int(out.size()) >= limit) break;
    row->lease_owner = owner;
    row->lease_until_ms = lease_until_ms;
    out.push_back(row->event);
  }
  return out;
}

MemoryMetadata::OutboxRow* MemoryMetadata::leased(const std::string& target, const std::string& id,
                                                  const std::string& owner) {
  auto it = outbox.find({target, id});
  if (it == outbox.end() || it->second.parked || it->second.lease_owner != owner) return nullptr;
  return &it->second;
}

bool MemoryMetadata::ack_event(const domain::OutboxEvent& e, const std::string& owner) {
  std::lock_guard l(mu_);
  if (!leased(e.target, e.id, owner)) return false;
  outbox.erase({e.target, e.id});
  return true;
}

bool MemoryMetadata::retry_event(const domain::OutboxEvent& e, const std::string& owner,
                                 int64_t next_attempt_ms) {
  std::lock_guard l(mu_);
  auto* row = leased(e.target, e.id, owner);
  if (!row) return false;
  row->event.attempts += 1;
  row->event.next_attempt_ms = next_attempt_ms;
  row->lease_owner.clear();
  row->lease_until_ms = 0;
  return true;
}

bool MemoryMetadata::park_event(const domain::OutboxEvent& e, const std::string& owner,
                                const std::string& reason) {
  std::lock_guard l(mu_);
  auto* row = leased(e.target, e.id, owner);
  if (!row) return false;
  row->parked = true;
  row->reason = reason;
  return true;
}

int64_t MemoryMetadata::pending_events(const std::string& target) {
  std::lock_guard l(mu_);
  int64_t n = 0;
  for (const auto& [k, row] : outbox) n += k.first == target && !row.parked;
  return n;
}

int64_t MemoryMetadata::parked_events(const std::string& target) {
  std::lock_guard l(mu_);
  int64_t n = 0;
  for (const auto& [k, row] : outbox) n += k.first == target && row.parked;
  return n;
}

}  // namespace isvc::testing
