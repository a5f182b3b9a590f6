#include "storage/sqlite_metadata_store.h"

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <thread>
#include <tuple>
#include <vector>

#include "domain/model/error.h"
#include "storage/key_ownership.h"
#include "storage/sqlite_db.h"
#include "storage/sqlite_store_impl.h"

namespace isvc::storage {

using domain::Error;
using domain::ErrorCode;
using domain::ImageRecord;
using domain::ImageState;
using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

// 2: uploads table; 3: key indexes, upload claims; 4: placeholders (thumbhash, dominant_color);
// 5: EXIF facts, original SHA-256, the takenAt sort key (images and image_tags); the webhook
//    outbox (CREATE TABLE IF NOT EXISTS below adds it to an older file)
constexpr int kSchemaVersion = 5;

const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS images (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, album_id TEXT,
  original_filename TEXT NOT NULL, mime_type TEXT NOT NULL,
  file_size INTEGER NOT NULL, processed_size INTEGER NOT NULL, thumbnail_size INTEGER NOT NULL,
  width INTEGER NOT NULL, height INTEGER NOT NULL,
  s3_key TEXT NOT NULL, s3_bucket TEXT NOT NULL, thumbnail_key TEXT,
  processing_status TEXT NOT NULL, processing_error TEXT, format TEXT NOT NULL,
  quality INTEGER NOT NULL, title TEXT, description TEXT, alt_text TEXT, tags TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL, uploaded_at_ms INTEGER NOT NULL,
  version INTEGER NOT NULL, state INTEGER NOT NULL, thumbhash TEXT, dominant_color TEXT,
  exif TEXT, sha256 TEXT, taken_sort_ms INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS images_by_user ON images(user_id, state, uploaded_at_ms, id);
CREATE INDEX IF NOT EXISTS images_by_album ON images(user_id, album_id, state, uploaded_at_ms, id);
CREATE INDEX IF NOT EXISTS images_by_time ON images(uploaded_at_ms);
-- who uses an object: no two users' images may share one (imports are checked against these)
CREATE INDEX IF NOT EXISTS images_by_s3_key ON images(s3_key);
CREATE INDEX IF NOT EXISTS images_by_thumbnail_key ON images(thumbnail_key);
-- one row per tag of an active image: serves the tag filter with an index
CREATE TABLE IF NOT EXISTS image_tags (
  image_id TEXT NOT NULL, user_id TEXT NOT NULL, album_id TEXT, tag TEXT NOT NULL,
  uploaded_at_ms INTEGER NOT NULL, taken_sort_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (image_id, tag));
CREATE INDEX IF NOT EXISTS image_tags_by_user ON image_tags(user_id, tag, uploaded_at_ms, image_id);
-- exact counts per scope: g (global), u (user), a (user+album), t (user+tag), at (all three)
CREATE TABLE IF NOT EXISTS counters (
  kind TEXT NOT NULL, user_id TEXT NOT NULL, album_id TEXT NOT NULL, tag TEXT NOT NULL,
  n INTEGER NOT NULL, bytes INTEGER NOT NULL, PRIMARY KEY (kind, user_id, album_id, tag));
-- started direct uploads (temporary)
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, fields TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL, completed_image_id TEXT,
  claim_until_ms INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS uploads_by_expiry ON uploads(expires_at_ms);
-- idempotency keys (24 h)
CREATE TABLE IF NOT EXISTS idempotency (
  key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, image_id TEXT,
  lease_until_ms INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS idempotency_by_expiry ON idempotency(expires_at_ms);
-- webhook outbox: one row per (target, event), written in the transaction of the change
CREATE TABLE IF NOT EXISTS webhook_outbox (
  target TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, order_key TEXT NOT NULL,
  seq INTEGER NOT NULL, created_at_ms INTEGER NOT NULL, body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '', lease_until_ms INTEGER NOT NULL DEFAULT 0,
  parked INTEGER NOT NULL DEFAULT 0, reason TEXT, PRIMARY KEY (target, id));
CREATE INDEX IF NOT EXISTS webhook_outbox_by_key ON webhook_outbox(target, parked, order_key, seq);
)SQL";

// Created after the version-5 columns exist (an older file gets them by ALTER TABLE first).
// sortBy=takenAt walks the first three; the duplicates lookup the last.
const char* kIndexesV5 = R"SQL(
CREATE INDEX IF NOT EXISTS images_by_taken ON images(user_id, state, taken_sort_ms, id);
CREATE INDEX IF NOT EXISTS images_by_album_taken
  ON images(user_id, album_id, state, taken_sort_ms, id);
CREATE INDEX IF NOT EXISTS image_tags_by_taken ON image_tags(user_id, tag, taken_sort_ms, image_id);
CREATE INDEX IF NOT EXISTS images_by_sha256 ON images(user_id, sha256, state, uploaded_at_ms, id);
)SQL";

// The listing indexes (of kSchema and kIndexesV5): only GET /images and its counts read them; no
// import, id lookup or object-key check does. A bulk load into an empty store drops them and
// builds them once at the end (a sort per index instead of a random insert per row into each).
constexpr const char* kListingIndexes[] = {
    "images_by_user",        "images_by_album",  "images_by_time",     "images_by_taken",
    "images_by_album_taken", "images_by_sha256", "image_tags_by_user", "image_tags_by_taken"};

const char* kColumns =
    "id, user_id, album_id, original_filename, mime_type, file_size, processed_size, "
    "thumbnail_size, width, height, s3_key, s3_bucket, thumbnail_key, processing_status, "
    "processing_error, format, quality, title, description, alt_text, tags, created_at_ms, "
    "updated_at_ms, uploaded_at_ms, version, state, thumbhash, dominant_color, exif, sha256, "
    "taken_sort_ms";

// "?1,?2,...,?31": one placeholder per column of kColumns.
std::string placeholders_for_columns() {
  std::string out;
  for (int i = 1; i <= 31; ++i) out += (i > 1 ? ",?" : "?") + std::to_string(i);
  return out;
}

std::string tags_json(const std::vector<std::string>& tags) {
  boost::json::array a;
  for (const auto& t : tags) a.emplace_back(t);
  return boost::json::serialize(a);
}

std::vector<std::string> parse_tags(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& e : v.as_array())
    if (e.is_string()) out.emplace_back(e.as_string());
  return out;
}

ImageRecord read_record(const Statement& s, int base = 0) {
  ImageRecord r;
  int c = base;
  r.id = s.text(c++);
  r.user_id = s.text(c++);
  r.album_id = s.opt_text(c++);
  r.original_filename = s.text(c++);
  r.mime_type = s.text(c++);
  r.file_size = s.i64(c++);
  r.processed_size = s.i64(c++);
  r.thumbnail_size = s.i64(c++);
  r.width = int(s.i64(c++));
  r.height = int(s.i64(c++));
  r.s3_key = s.text(c++);
  r.s3_bucket = s.text(c++);
  r.thumbnail_key = s.opt_text(c++);
  r.processing_status = s.text(c++);
  r.processing_error = s.opt_text(c++);
  r.format = s.text(c++);
  r.quality = int(s.i64(c++));
  r.title = s.opt_text(c++);
  r.description = s.opt_text(c++);
  r.alt_text = s.opt_text(c++);
  r.tags = parse_tags(s.text(c++));
  r.created_at_ms = s.i64(c++);
  r.updated_at_ms = s.i64(c++);
  r.uploaded_at_ms = s.i64(c++);
  r.version = s.i64(c++);
  r.state = s.i64(c++) == 1 ? ImageState::Deleting : ImageState::Active;
  r.thumbhash = s.opt_text(c++);
  r.dominant_color = s.opt_text(c++);
  if (auto ex = s.opt_text(c++)) r.exif = domain::decode_exif(*ex);
  r.sha256 = s.opt_text(c++);
  return r;
}

void bind_record(Statement& s, const ImageRecord& r) {
  int i = 0;
  auto b = [&](const auto& v) { s.bind(++i, v); };
  b(std::string_view(r.id));
  b(std::string_view(r.user_id));
  b(r.album_id);
  b(std::string_view(r.original_filename));
  b(std::string_view(r.mime_type));
  b(r.file_size);
  b(r.processed_size);
  b(r.thumbnail_size);
  b(int64_t(r.width));
  b(int64_t(r.height));
  b(std::string_view(r.s3_key));
  b(std::string_view(r.s3_bucket));
  b(r.thumbnail_key);
  b(std::string_view(r.processing_status));
  b(r.processing_error);
  b(std::string_view(r.format));
  b(int64_t(r.quality));
  b(r.title);
  b(r.description);
  b(r.alt_text);
  b(std::string_view(tags_json(r.tags)));
  b(r.created_at_ms);
  b(r.updated_at_ms);
  b(r.uploaded_at_ms);
  b(r.version);
  b(int64_t(r.state == ImageState::Deleting ? 1 : 0));
  b(r.thumbhash);
  b(r.dominant_color);
  b(r.exif ? std::optional<std::string>(domain::encode_exif(*r.exif)) : std::nullopt);
  b(r.sha256);
  b(domain::taken_sort_key(r));
}

std::optional<ImageRecord> select_by_id(Connection& c, const std::string& id) {
  static const std::string sql = std::string("SELECT ") + kColumns + " FROM images WHERE id = ?1";
  auto s = c.prepare(sql);
  s.bind(1, std::string_view(id));
  if (!s.step()) return std::nullopt;
  return read_record(s);
}

void bump(Connection& c, const char* kind, const std::string& user, const std::string& album,
          const std::string& tag, int64_t dn, int64_t dbytes) {
  auto s = c.prepare(
      "INSERT INTO counters(kind, user_id, album_id, tag, n, bytes) VALUES (?1, ?2, ?3, ?4, ?5, "
      "?6) "
      "ON CONFLICT(kind, user_id, album_id, tag) DO UPDATE SET n = n + ?5, bytes = bytes + ?6");
  s.bind(1, std::string_view(kind))
      .bind(2, std::string_view(user))
      .bind(3, std::string_view(album));
  s.bind(4, std::string_view(tag)).bind(5, dn).bind(6, dbytes);
  s.run();
}

// Counter changes summed before they are written, so that a batch moves each cell once (the
// global cell and the user's would otherwise be rewritten for every row of an import).
struct CounterBumps {
  // (kind, user, album, tag) → (n, bytes); looked up by views, so that a cell already in the map
  // costs no string copies (a migration batch adds ~5 cells per row, most of them seen before).
  using Cell = std::tuple<std::string, std::string, std::string, std::string>;
  using CellView =
      std::tuple<std::string_view, std::string_view, std::string_view, std::string_view>;
  struct Less {
    using is_transparent = void;
    static CellView view(const Cell& c) {
      return {std::get<0>(c), std::get<1>(c), std::get<2>(c), std::get<3>(c)};
    }
    static const CellView& view(const CellView& c) { return c; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return view(a) < view(b);
    }
  };
  std::map<Cell, std::pair<int64_t, int64_t>, Less> cells;

  void add(const ImageRecord& r, int sign) {
    int64_t bytes = r.processed_size + r.thumbnail_size;
    auto at = [&](std::string_view kind, std::string_view user, std::string_view album,
                  std::string_view tag) -> auto& {
      CellView key{kind, user, album, tag};
      auto it = cells.lower_bound(key);
      if (it == cells.end() || Less{}(key, it->first))
        it = cells.emplace_hint(it, Cell{kind, user, album, tag}, std::pair<int64_t, int64_t>{});
      return it->second;
    };
    auto& g = at("g", "", "", "");
    g.first += sign;
    g.second += sign * bytes;
    at("u", r.user_id, "", "").first += sign;
    if (r.album_id) at("a", r.user_id, *r.album_id, "").first += sign;
    for (const auto& t : r.tags) {
      at("t", r.user_id, "", t).first += sign;
      if (r.album_id) at("at", r.user_id, *r.album_id, t).first += sign;
    }
  }
  void write(Connection& c) const {
    for (const auto& [cell, d] : cells)
      if (d.first != 0 || d.second != 0)
        bump(c, std::get<0>(cell).c_str(), std::get<1>(cell), std::get<2>(cell), std::get<3>(cell),
             d.first, d.second);
  }
};

// Adds (sign = +1) or removes (sign = -1) an active record's tag rows (image_tags).
void tag_rows(Connection& c, const ImageRecord& r, int sign) {
  if (sign > 0) {
    for (const auto& t : r.tags) {
      auto s = c.prepare(
          "INSERT OR IGNORE INTO image_tags(image_id, user_id, album_id, tag, uploaded_at_ms, "
          "taken_sort_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      s.bind(1, std::string_view(r.id)).bind(2, std::string_view(r.user_id)).bind(3, r.album_id);
      s.bind(4, std::string_view(t)).bind(5, r.uploaded_at_ms).bind(6, domain::taken_sort_key(r));
      s.run();
    }
  } else {
    auto s = c.prepare("DELETE FROM image_tags WHERE image_id = ?1");
    s.bind(1, std::string_view(r.id));
    s.run();
  }
}

// Adds (sign = +1) or removes (sign = -1) an active record's contribution to every counter and its
// tag rows.
void account(Connection& c, const ImageRecord& r, int sign) {
  tag_rows(c, r, sign);
  CounterBumps b;
  b.add(r, sign);
  b.write(c);
}

// Throws ObjectKeyConflict when another user's image uses one of the record's keys (indexed).
// The field of the first of the record's keys another user's image uses, or nullptr.
const char* conflicting_key(Connection& c, const ImageRecord& r) {
  for (const auto& k : keys_to_check(r)) {
    if (k.foreign_folder) return k.field;
    auto s = c.prepare(
        "SELECT 1 FROM images WHERE s3_key = ?1 AND user_id != ?2 UNION ALL "
        "SELECT 1 FROM images WHERE thumbnail_key = ?1 AND user_id != ?2 LIMIT 1");
    s.bind(1, std::string_view(k.key)).bind(2, std::string_view(r.user_id));
    if (s.step()) return k.field;
  }
  return nullptr;
}

}  // namespace

SqliteMetadataStore::SqliteMetadataStore(const std::string& db_path, int readers,
                                         const std::string& synchronous)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = db_path;
  if (synchronous != "NORMAL" && synchronous != "FULL")
    throw Error(ErrorCode::StorageFailed, "synchronous must be NORMAL or FULL");
  impl_->writer = std::make_unique<Connection>(db_path, true, synchronous);
  auto& w = *impl_->writer;
  int64_t version = 0;
  {
    auto s = w.prepare("PRAGMA user_version");
    if (s.step()) version = s.i64(0);
  }
  if (version > kSchemaVersion)
    throw Error(ErrorCode::StorageFailed, "metadata.db has schema version " +
                                              std::to_string(version) +
                                              ", newer than this binary understands (" +
                                              std::to_string(kSchemaVersion) + ")");
  w.exec(kSchema);
  bool has_claims = false;
  {
    auto s = w.prepare("SELECT 1 FROM pragma_table_info('uploads') WHERE name = 'claim_until_ms'");
    has_claims = s.step();
  }
  if (!has_claims)  // a version-2 file: upload claims are new in 3
    w.exec("ALTER TABLE uploads ADD COLUMN claim_until_ms INTEGER NOT NULL DEFAULT 0");
  bool has_placeholders = false;
  {
    auto s = w.prepare("SELECT 1 FROM pragma_table_info('images') WHERE name = 'thumbhash'");
    has_placeholders = s.step();
  }
  // An older file: its rows have none until backfill-placeholders. One transaction, so that a
  // crash between the two columns cannot leave a file with only the first.
  if (!has_placeholders)
    w.exec(
        "BEGIN; ALTER TABLE images ADD COLUMN thumbhash TEXT; "
        "ALTER TABLE images ADD COLUMN dominant_color TEXT; COMMIT");
  auto has_column = [&](const char* table, const char* column) {
    auto s =
        w.prepare(std::string("SELECT 1 FROM pragma_table_info('") + table + "') WHERE name = ?1");
    s.bind(1, std::string_view(column));
    return s.step();
  };
  // A version-4 file: its rows have no EXIF facts or hash (imports and uploads before them);
  // they sort by takenAt as their upload time. One transaction, like the placeholders. (An
  // older file's image_tags may be new, created above with the column.)
  if (!has_column("images", "sha256")) {
    std::string sql =
        "BEGIN; ALTER TABLE images ADD COLUMN exif TEXT; "
        "ALTER TABLE images ADD COLUMN sha256 TEXT; "
        "ALTER TABLE images ADD COLUMN taken_sort_ms INTEGER NOT NULL DEFAULT 0; "
        "UPDATE images SET taken_sort_ms = uploaded_at_ms; ";
    if (!has_column("image_tags", "taken_sort_ms"))
      sql +=
          "ALTER TABLE image_tags ADD COLUMN taken_sort_ms INTEGER NOT NULL DEFAULT 0; "
          "UPDATE image_tags SET taken_sort_ms = uploaded_at_ms; ";
    w.exec(sql + "COMMIT");
  }
  w.exec(kIndexesV5);
  w.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
  for (int i = 0; i < std::max(1, readers); ++i)
    impl_->readers.push_back(std::make_unique<Connection>(db_path, false));
  w.exec("PRAGMA wal_autocheckpoint=0");
  impl_->checkpointer = std::make_unique<Connection>(db_path, true, synchronous);
  impl_->checkpoint_thread = std::thread([impl = impl_.get()] { impl->checkpoint_loop(); });
}

SqliteMetadataStore::~SqliteMetadataStore() = default;

domain::WriteResult SqliteMetadataStore::insert(const ImageRecord& rec,
                                                const domain::Events& events) {
  return impl_->write([&](Connection& c) -> domain::WriteResult {
    Transaction tx(c);
    if (select_by_id(c, rec.id)) return domain::WriteResult::id_exists();
    if (auto field = conflicting_key(c, rec)) return domain::WriteResult::key_conflict(field);
    auto s = c.prepare(std::string("INSERT INTO images(") + kColumns + ") VALUES (" +
                       placeholders_for_columns() + ")");
    bind_record(s, rec);
    s.run();
    if (rec.state == ImageState::Active) account(c, rec, +1);
    sqlite::record_events(c, events);
    tx.commit();
    return {};
  });
}

std::vector<domain::ImportOutcome> SqliteMetadataStore::import_batch(
    const std::vector<ImageRecord>& records) {
  // One transaction for the whole batch: the migration's rows/s come from here.
  return impl_->write([&](Connection& c) {
    std::vector<domain::ImportOutcome> out;
    out.reserve(records.size());
    CounterBumps bumps;  // written once, before the commit
    Transaction tx(c);
    auto insert_sql = std::string("REPLACE INTO images(") + kColumns + ") VALUES (" +
                      placeholders_for_columns() + ")";
    for (const auto& rec : records) {
      auto cur = select_by_id(c, rec.id);
      if (cur && cur->user_id != rec.user_id) {
        out.push_back(domain::ImportOutcome::OwnerConflict);
        continue;
      }
      if (cur && (cur->state != ImageState::Active || rec.updated_at_ms <= cur->updated_at_ms)) {
        out.push_back(domain::ImportOutcome::Unchanged);
        continue;
      }
      if (conflicting_key(c, rec)) {  // earlier rows of this batch are visible: same transaction
        out.push_back(domain::ImportOutcome::KeyConflict);
        continue;
      }
      // The record as stored: a new active one as it came (no copy; a migration's every row),
      // an update with the next version and the placeholders already computed.
      std::optional<ImageRecord> changed;
      if (cur || rec.state != ImageState::Active) {
        changed = rec;
        changed->state = ImageState::Active;
        if (cur) {
          changed->version = cur->version + 1;
          domain::keep_placeholders(*cur, *changed);
        }
      }
      const ImageRecord& next = changed ? *changed : rec;
      if (cur) {
        tag_rows(c, *cur, -1);
        bumps.add(*cur, -1);
      }
      auto s = c.prepare(insert_sql);
      bind_record(s, next);
      s.run();
      tag_rows(c, next, +1);
      bumps.add(next, +1);
      out.push_back(cur ? domain::ImportOutcome::Updated : domain::ImportOutcome::Created);
    }
    bumps.write(c);
    tx.commit();
    return out;
  });
}

bool SqliteMetadataStore::begin_bulk_load() {
  return impl_->write([&](Connection& c) {
    // Checked and dropped in one write transaction: a row another process (the service taking
    // dual-writes) adds afterwards is in the table when the indexes are built again.
    Transaction tx(c);
    if (c.prepare("SELECT 1 FROM images LIMIT 1").step()) return false;
    for (const char* name : kListingIndexes) c.exec(std::string("DROP INDEX IF EXISTS ") + name);
    tx.commit();
    return true;
  });
}

void SqliteMetadataStore::finish_bulk_load() {
  // The statements that create every index at start-up (IF NOT EXISTS), in one transaction: a
  // kill leaves all of them or none, and the next open of the file creates what is missing.
  impl_->write([&](Connection& c) {
    Transaction tx(c);
    c.exec(kSchema);
    c.exec(kIndexesV5);
    tx.commit();
  });
}

std::optional<ImageRecord> SqliteMetadataStore::get(const std::string& id) {
  return impl_->read([&](Connection& c) { return select_by_id(c, id); });
}

domain::WriteResult SqliteMetadataStore::update(const ImageRecord& rec, int64_t expected_version,
                                                const domain::Events& events) {
  return impl_->write([&](Connection& c) -> domain::WriteResult {
    Transaction tx(c);
    auto cur = select_by_id(c, rec.id);
    if (!cur || cur->state != ImageState::Active) return domain::WriteResult::not_found();
    if (cur->version != expected_version)
      return domain::WriteResult::version_mismatch(cur->version);
    ImageRecord next = rec;
    next.state = ImageState::Active;
    if (cur->s3_key != next.s3_key || cur->thumbnail_key != next.thumbnail_key ||
        cur->user_id != next.user_id)
      if (auto field = conflicting_key(c, next)) return domain::WriteResult::key_conflict(field);
    // The common edit (title, description, alt text) touches no index and no counter; only album,
    // tag or size changes pay for index and counter maintenance.
    bool recount = cur->album_id != next.album_id || cur->tags != next.tags ||
                   cur->user_id != next.user_id || cur->uploaded_at_ms != next.uploaded_at_ms ||
                   cur->processed_size != next.processed_size ||
                   cur->thumbnail_size != next.thumbnail_size ||
                   domain::taken_sort_key(*cur) != domain::taken_sort_key(next);
    if (recount) {
      account(c, *cur, -1);
      auto s = c.prepare(std::string("REPLACE INTO images(") + kColumns + ") VALUES (" +
                         placeholders_for_columns() + ")");
      bind_record(s, next);
      s.run();
      account(c, next, +1);
    } else {
      auto u = c.prepare(
          "UPDATE images SET original_filename = ?2, mime_type = ?3, width = ?4, height = ?5, "
          "s3_key = ?6, s3_bucket = ?7, thumbnail_key = ?8, processing_status = ?9, "
          "processing_error = ?10, format = ?11, quality = ?12, title = ?13, description = ?14, "
          "alt_text = ?15, created_at_ms = ?16, updated_at_ms = ?17, version = ?18, "
          "file_size = ?19, thumbhash = ?20, dominant_color = ?21, exif = ?22, sha256 = ?23 "
          "WHERE id = ?1");
      u.bind(1, std::string_view(next.id)).bind(2, std::string_view(next.original_filename));
      u.bind(3, std::string_view(next.mime_type)).bind(4, int64_t(next.width));
      u.bind(5, int64_t(next.height)).bind(6, std::string_view(next.s3_key));
      u.bind(7, std::string_view(next.s3_bucket)).bind(8, next.thumbnail_key);
      u.bind(9, std::string_view(next.processing_status)).bind(10, next.processing_error);
      u.bind(11, std::string_view(next.format)).bind(12, int64_t(next.quality));
      u.bind(13, next.title).bind(14, next.description).bind(15, next.alt_text);
      u.bind(16, next.created_at_ms).bind(17, next.updated_at_ms).bind(18, next.version);
      u.bind(19, next.file_size).bind(20, next.thumbhash).bind(21, next.dominant_color);
      u.bind(22, next.exif ? std::optional<std::string>(domain::encode_exif(*next.exif))
                           : std::nullopt);
      u.bind(23, next.sha256);
      u.run();
    }
    sqlite::record_events(c, events);
    tx.commit();
    return {};
  });
}

std::optional<ImageRecord> SqliteMetadataStore::mark_deleting(const std::string& id,
                                                              const domain::Events& events) {
  return impl_->write([&](Connection& c) -> std::optional<ImageRecord> {
    Transaction tx(c);
    auto cur = select_by_id(c, id);
    if (!cur) return std::nullopt;
    if (cur->state == ImageState::Active) {
      account(c, *cur, -1);
      auto s = c.prepare("UPDATE images SET state = 1 WHERE id = ?1");
      s.bind(1, std::string_view(id));
      s.run();
      cur->state = ImageState::Deleting;
      sqlite::record_events(c, events);
    }
    tx.commit();
    return cur;
  });
}

bool SqliteMetadataStore::remove(const std::string& id) {
  return impl_->write([&](Connection& c) {
    Transaction tx(c);
    auto cur = select_by_id(c, id);
    if (!cur) return false;
    if (cur->state == ImageState::Active) account(c, *cur, -1);
    auto s = c.prepare("DELETE FROM images WHERE id = ?1");
    s.bind(1, std::string_view(id));
    s.run();
    tx.commit();
    return true;
  });
}

namespace {

// One page of a user's active records (list()), on the caller's connection.
domain::ListPage list_active(Connection& c, const domain::ListQuery& q) {
  const char* cmp = q.ascending ? ">" : "<";
  const char* dir = q.ascending ? "ASC" : "DESC";
  // Each shape walks one index: images_by_user / _by_album (uploaded), images_by_taken /
  // _by_album_taken, image_tags_by_user / _by_taken, images_by_sha256.
  const char* key =
      q.sort_by == domain::SortBy::TakenAt && !q.sha256 ? "taken_sort_ms" : "uploaded_at_ms";
  std::string sql;
  if (q.tag && !q.sha256) {
    // Walk the tag index, then fetch the rows.
    sql = "SELECT ";
    std::string cols = kColumns;
    std::string prefixed;
    std::size_t start = 0;
    while (start < cols.size()) {
      auto comma = cols.find(',', start);
      auto name =
          cols.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      while (!name.empty() && name.front() == ' ') name.erase(0, 1);
      prefixed += (prefixed.empty() ? "i." : ", i.") + name;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    std::string k = std::string("t.") + key;
    sql += prefixed +
           " FROM image_tags t JOIN images i ON i.id = t.image_id WHERE t.user_id = ?1 AND "
           "t.tag = ?2";
    if (q.album_id) sql += " AND t.album_id = ?3";
    if (q.after) sql += " AND (" + k + ", t.image_id) " + cmp + " (?4, ?5)";
    sql += " ORDER BY " + k + " " + dir + ", t.image_id " + dir + " LIMIT ?6";
  } else {
    std::string k = key;
    sql = std::string("SELECT ") + kColumns + " FROM images WHERE user_id = ?1 AND state = 0";
    if (q.sha256)
      sql += " AND sha256 = ?7";
    else if (q.album_id)
      sql += " AND album_id = ?3";
    if (q.after) sql += " AND (" + k + ", id) " + cmp + " (?4, ?5)";
    sql += " ORDER BY " + k + " " + dir + ", id " + dir + " LIMIT ?6";
  }
  auto s = c.prepare(sql);
  s.bind(1, std::string_view(q.user_id));
  if (q.sha256) {
    s.bind(7, std::string_view(*q.sha256));
  } else {
    if (q.tag) s.bind(2, std::string_view(*q.tag));
    if (q.album_id) s.bind(3, std::string_view(*q.album_id));
  }
  if (q.after) s.bind(4, q.after->uploaded_at_ms).bind(5, std::string_view(q.after->id));
  s.bind(6, int64_t(q.limit) + 1);
  domain::ListPage page;
  page.items.reserve(std::size_t(q.limit) + 1);
  while (s.step()) page.items.push_back(read_record(s));
  if (int(page.items.size()) > q.limit) {
    page.items.resize(std::size_t(q.limit));
    page.has_more = true;
  }
  return page;
}

// count() of a user's active records: the maintained counter cell, or for one file's copies a
// count on images_by_sha256 (few rows).
int64_t count_active(Connection& c, const domain::ListQuery& q) {
  if (q.sha256) {
    auto s =
        c.prepare("SELECT count(*) FROM images WHERE user_id = ?1 AND sha256 = ?2 AND state = 0");
    s.bind(1, std::string_view(q.user_id)).bind(2, std::string_view(*q.sha256));
    return s.step() ? s.i64(0) : 0;
  }
  const char* kind = q.album_id && q.tag ? "at" : q.album_id ? "a" : q.tag ? "t" : "u";
  auto s = c.prepare(
      "SELECT n FROM counters WHERE kind = ?1 AND user_id = ?2 AND album_id = ?3 AND tag = ?4");
  s.bind(1, std::string_view(kind)).bind(2, std::string_view(q.user_id));
  s.bind(3, std::string_view(q.album_id.value_or("")))
      .bind(4, std::string_view(q.tag.value_or("")));
  return s.step() ? s.i64(0) : 0;
}

}  // namespace

domain::ListPage SqliteMetadataStore::list(const domain::ListQuery& q) {
  if (q.state == ImageState::Deleting) return list_deleting(q);
  return impl_->read([&](Connection& c) { return list_active(c, q); });
}

domain::CountedPage SqliteMetadataStore::list_counted(const domain::ListQuery& q) {
  if (q.state == ImageState::Deleting) return MetadataBackend::list_counted(q);
  // One read transaction: the page and the count from one snapshot, one reader taken once.
  return impl_->read([&](Connection& c) {
    c.prepare("BEGIN").run();
    try {
      domain::CountedPage out{list_active(c, q), 0};
      domain::ListQuery all = q;
      all.after.reset();
      out.total_count = count_active(c, all);
      c.prepare("COMMIT").run();
      return out;
    } catch (...) {
      sqlite3_exec(c.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  });
}

domain::ListPage SqliteMetadataStore::list_deleting(const domain::ListQuery& q) {
  const char* cmp = q.ascending ? ">" : "<";
  const char* dir = q.ascending ? "ASC" : "DESC";
  std::string sql =
      std::string("SELECT ") + kColumns + " FROM images WHERE user_id = ?1 AND state = 1";
  if (q.after) sql += std::string(" AND (uploaded_at_ms, id) ") + cmp + " (?2, ?3)";
  sql += std::string(" ORDER BY uploaded_at_ms ") + dir + ", id " + dir + " LIMIT ?4";
  return impl_->read([&](Connection& c) {
    auto s = c.prepare(sql);
    s.bind(1, std::string_view(q.user_id));
    if (q.after) s.bind(2, q.after->uploaded_at_ms).bind(3, std::string_view(q.after->id));
    s.bind(4, int64_t(q.limit) + 1);
    domain::ListPage page;
    while (s.step()) page.items.push_back(read_record(s));
    if (int(page.items.size()) > q.limit) {
      page.items.resize(std::size_t(q.limit));
      page.has_more = true;
    }
    return page;
  });
}

int64_t SqliteMetadataStore::count_deleting(const std::string& user_id) {
  return impl_->read([&](Connection& c) -> int64_t {
    auto s = c.prepare("SELECT count(*) FROM images WHERE user_id = ?1 AND state = 1");
    s.bind(1, std::string_view(user_id));
    return s.step() ? s.i64(0) : 0;
  });
}

int64_t SqliteMetadataStore::count(const domain::ListQuery& q) {
  if (q.state == ImageState::Deleting) return count_deleting(q.user_id);
  return impl_->read([&](Connection& c) { return count_active(c, q); });
}

domain::StoreStats SqliteMetadataStore::stats(int64_t since_ms) {
  return impl_->read([&](Connection& c) {
    domain::StoreStats st;
    {
      auto s = c.prepare("SELECT n, bytes FROM counters WHERE kind = 'g'");
      if (s.step()) {
        st.total_images = s.i64(0);
        st.total_bytes = s.i64(1);
      }
    }
    auto s = c.prepare("SELECT count(*) FROM images WHERE uploaded_at_ms >= ?1 AND state = 0");
    constexpr int64_t kDayMs = 86'400'000;
    s.bind(1, since_ms - since_ms % kDayMs);  // the UTC day containing since_ms
    if (s.step()) st.uploaded_since = s.i64(0);
    return st;
  });
}

void SqliteMetadataStore::scan(const std::function<bool(const ImageRecord&)>& visit) {
  // Pages by id so no read transaction stays open while the visitor works.
  std::string after;
  for (;;) {
    std::vector<ImageRecord> batch = impl_->read([&](Connection& c) {
      auto s = c.prepare(std::string("SELECT ") + kColumns +
                         " FROM images WHERE id > ?1 ORDER BY id LIMIT 500");
      s.bind(1, std::string_view(after));
      std::vector<ImageRecord> out;
      while (s.step()) out.push_back(read_record(s));
      return out;
    });
    if (batch.empty()) return;
    for (const auto& r : batch)
      if (!visit(r)) return;
    after = batch.back().id;
  }
}

namespace {

// Fills temp.expected_counters with the counters the rows imply and returns how many stored cells
// differ from it, on either side (a stored zero and a missing expected row agree). Inside the
// caller's transaction: rows and counters are read from one snapshot.
int64_t counter_drift(Connection& c) {
  c.exec("DROP TABLE IF EXISTS temp.expected_counters");
  c.exec(
      "CREATE TEMP TABLE expected_counters AS "
      "SELECT 'g' AS kind, '' AS user_id, '' AS album_id, '' AS tag, count(*) AS n, "
      "  coalesce(sum(processed_size + thumbnail_size), 0) AS bytes FROM images WHERE state = 0 "
      "UNION ALL SELECT 'u', user_id, '', '', count(*), 0 FROM images WHERE state = 0 "
      "  GROUP BY user_id "
      "UNION ALL SELECT 'a', user_id, album_id, '', count(*), 0 FROM images "
      "  WHERE state = 0 AND album_id IS NOT NULL GROUP BY user_id, album_id "
      "UNION ALL SELECT 't', i.user_id, '', t.tag, count(*), 0 FROM image_tags t "
      "  JOIN images i ON i.id = t.image_id WHERE i.state = 0 GROUP BY i.user_id, t.tag "
      "UNION ALL SELECT 'at', i.user_id, i.album_id, t.tag, count(*), 0 FROM image_tags t "
      "  JOIN images i ON i.id = t.image_id WHERE i.state = 0 AND i.album_id IS NOT NULL "
      "  GROUP BY i.user_id, i.album_id, t.tag");
  auto s = c.prepare(
      "SELECT count(*) FROM ("
      " SELECT e.kind FROM expected_counters e LEFT JOIN counters k ON k.kind = e.kind AND "
      "  k.user_id = e.user_id AND k.album_id = e.album_id AND k.tag = e.tag "
      "  WHERE coalesce(k.n, 0) != e.n OR (e.kind = 'g' AND coalesce(k.bytes, 0) != e.bytes) "
      " UNION ALL "
      " SELECT k.kind FROM counters k LEFT JOIN expected_counters e ON k.kind = e.kind AND "
      "  k.user_id = e.user_id AND k.album_id = e.album_id AND k.tag = e.tag "
      "  WHERE e.n IS NULL AND (k.n != 0 OR k.bytes != 0))");
  return s.step() ? s.i64(0) : 0;
}

}  // namespace

int64_t SqliteMetadataStore::check_counters(bool repair) {
  // First on a reader, in one read transaction: in WAL mode that is a consistent snapshot of the
  // rows and the counters, and the service's writes go on meanwhile (the migration runs this
  // beside its index build). The temporary table is the connection's own (the main file is
  // read-only there).
  int64_t wrong = impl_->read([&](Connection& c) -> int64_t {
    c.exec("BEGIN");
    try {
      int64_t n = counter_drift(c);
      c.exec("DROP TABLE temp.expected_counters");
      c.exec("COMMIT");
      return n;
    } catch (...) {
      sqlite3_exec(c.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  });
  if (!repair || wrong == 0) return wrong;
  // Drift to repair: computed again under the writer lock, so that no write moves a counter
  // between the expected values and their replacement.
  return impl_->write([&](Connection& c) -> int64_t {
    Transaction tx(c);
    int64_t now_wrong = counter_drift(c);
    if (now_wrong > 0) {
      c.exec("DELETE FROM counters");
      c.exec(
          "INSERT INTO counters SELECT kind, user_id, album_id, tag, n, bytes FROM "
          "expected_counters");
    }
    c.exec("DROP TABLE temp.expected_counters");
    tx.commit();
    return now_wrong;
  });
}

bool SqliteMetadataStore::healthy() {
  try {
    return impl_->read([](Connection& c) {
      auto s = c.prepare("SELECT 1");
      return s.step();
    });
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace isvc::storage
