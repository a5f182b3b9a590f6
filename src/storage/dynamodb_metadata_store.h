// The metadata backend on the DynamoDB API (AWS, or any compatible engine via DYNAMODB_ENDPOINT),
// with the one-table design of SPEC §7 (see dynamodb_item.h). Versions are compare-and-swap through
// condition expressions. Counters are separate items updated with ADD after the image write (the
// cells of one write in parallel) — no TransactWriteItems, which dynalite and several compatible
// engines lack: a write is acknowledged only after its counters moved, a failure in between is
// compensated, and drift left by a crash between the two is repaired by `image-service fsck`.
#pragma once

#include <string>
#include <vector>

#include "aws/dynamodb_client.h"
#include "domain/ports/metadata_backend.h"
#include "storage/dynamodb_key_claims.h"

#include <boost/json/object.hpp>

namespace isvc::storage {

class DynamoDbMetadataStore final : public domain::MetadataBackend {
 public:
  DynamoDbMetadataStore(aws::DynamoDbClient& db, std::string table);

  using domain::ImageRepository::insert;
  using domain::ImageRepository::mark_deleting;
  using domain::ImageRepository::update;
  domain::WriteResult insert(const domain::ImageRecord& rec, const domain::Events& events) override;
  std::optional<domain::ImageRecord> get(const std::string& id) override;
  domain::WriteResult update(const domain::ImageRecord& rec, int64_t expected_version,
                             const domain::Events& events) override;
  std::optional<domain::ImageRecord> mark_deleting(const std::string& id,
                                                   const domain::Events& events) override;
  bool remove(const std::string& id) override;
  // Conditional on the version seen (no read first); a record changed since goes the way above.
  std::optional<domain::ImageRecord> mark_deleting_seen(const domain::ImageRecord& seen,
                                                        const domain::Events& events) override;
  bool remove_seen(const domain::ImageRecord& seen) override;
  // ADD to the item's variant set (vks) and count (vkn), on the condition that it is active.
  bool note_variant(const std::string& id, const std::string& key) override;
  // Images being deleted sit in the DELETING#USER#{userId} partition of the user index.
  domain::ListPage list(const domain::ListQuery& q) override;
  int64_t count(const domain::ListQuery& q) override;
  domain::StoreStats stats(int64_t since_ms) override;
  void scan(const std::function<bool(const domain::ImageRecord&)>& visit) override;
  // Batched for the migration: one BatchGetItem per 100 records finds which ids exist; the new
  // ones go in with BatchWriteItem (25 per call, unprocessed items retried) and WITHOUT counter
  // updates — a batch write cannot carry them, and one ADD per cell per row would cost more than
  // the rows. The caller settles the counters with check_counters(true) afterwards (migrate
  // does). Records that exist and are older go through the conditional per-record path. The new
  // records' key claims are read in the same way (BatchGetItem) and written before the records
  // (BatchWriteItem, unconditional: see docs/migration.md for the window this leaves); a key
  // another user claims sends the record to the per-record path, which takes a stale claim over
  // or reports the conflict.
  std::vector<domain::ImportOutcome> import_batch(
      const std::vector<domain::ImageRecord>& records) override;
  int64_t check_counters(bool repair) override;
  void put_upload(const domain::UploadRecord& u) override;
  std::optional<domain::UploadRecord> get_upload(const std::string& id, int64_t now_ms) override;
  void remove_upload(const std::string& id) override;
  int64_t remove_expired_uploads(int64_t now_ms) override;
  bool claim_upload(const std::string& id, int64_t now_ms, int64_t lease_until_ms) override;
  void release_upload(const std::string& id) override;
  std::optional<domain::IdempotencyRecord> claim_idempotency(
      const domain::IdempotencyRecord& pending, int64_t now_ms) override;
  void complete_idempotency(const std::string& key, const std::string& image_id) override;
  void release_idempotency(const std::string& key) override;
  int64_t remove_expired_idempotency(int64_t now_ms) override;
  void append_events(const std::vector<domain::OutboxEvent>& events) override;
  std::vector<domain::OutboxEvent> claim_events(const std::string& target, const std::string& owner,
                                                int64_t now_ms, int64_t lease_until_ms,
                                                int limit) override;
  bool ack_event(const domain::OutboxEvent& e, const std::string& owner) override;
  bool retry_event(const domain::OutboxEvent& e, const std::string& owner,
                   int64_t next_attempt_ms) override;
  bool park_event(const domain::OutboxEvent& e, const std::string& owner,
                  const std::string& reason) override;
  int64_t pending_events(const std::string& target) override;
  int64_t parked_events(const std::string& target) override;
  // Events ride in the record item's own conditional write (attribute "obx") and are moved to
  // their outbox items right after; a crash in between leaves them there for this sweep.
  int64_t recover_events() override;
  std::string name() const override { return "dynamodb"; }
  bool healthy() override;

  // Creates the table (keys, both GSIs, on-demand billing) when missing and waits until it is
  // active; then asks for TTL on `ttl` and point-in-time recovery. Returns one line per setting
  // saying what happened, including settings the endpoint does not support.
  static std::vector<std::string> provision(aws::DynamoDbClient& db, const std::string& table);

 private:
  // Claims the record's keys; a key another user's image holds is the conflict to report.
  std::optional<domain::WriteResult> claim_keys(const domain::ImageRecord& rec);
  int64_t count_deleting(const std::string& user_id);
  // The conditional steps of a delete, on `cur` as read: nullopt / false when the record is no
  // longer that version in that state (the caller reads it again).
  std::optional<domain::ImageRecord> mark_if_unchanged(const domain::ImageRecord& cur,
                                                       const domain::Events& events);
  bool remove_if_unchanged(const domain::ImageRecord& cur);
  domain::ImportOutcome import_one(const domain::ImageRecord& rec);
  // Adds `delta` to the counters of an active record (user cells, global count, bytes, day).
  void account(const domain::ImageRecord& r, int delta);
  domain::ListPage query_list(const domain::ListQuery& q, bool deleting);
  // Deletes the items under PK prefix `pk_prefix` whose expiresAtMs has passed (one scan).
  int64_t remove_expired(const std::string& pk_prefix, int64_t now_ms);
  // The outbox (dynamodb_outbox.cpp): moves a record's events (its obx attribute, or the events
  // just written with it) to their outbox items and clears obx; relay_pending reads obx first
  // and says whether there was any.
  void relay_events(const std::string& image_id, const boost::json::object& obx);
  void relay_events(const std::string& image_id, const domain::Events& events);
  bool relay_pending(const std::string& image_id);
  // An ack/retry/park write (`request` without table and key) on the event's item where this
  // build keeps it, and when that fails its condition, where a build before the shards kept it.
  aws::DynamoResult settle_event(const domain::OutboxEvent& e, boost::json::object request);

  aws::DynamoDbClient& db_;
  std::string table_;
  dynamo::KeyClaims claims_;
};

}  // namespace isvc::storage
