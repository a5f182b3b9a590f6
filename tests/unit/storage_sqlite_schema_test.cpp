// Opening a metadata.db written by an older build: the schema is migrated in place (version 3 →
// 4: the placeholder columns; 4 → 5: EXIF facts, hash, takenAt key), its rows read back without
// placeholders and take them on the next update; a file newer than the binary is refused.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "domain/model/error.h"
#include "storage/sqlite_metadata_store.h"

namespace isvc::storage {
namespace {

void exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

int64_t user_version(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  sqlite3_step(s);
  int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

// The names of the file's indexes (SQLite's own automatic ones left out), sorted.
std::vector<std::string> indexes(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL "
                     "ORDER BY name",
                     -1, &s, nullptr);
  std::vector<std::string> out;
  while (sqlite3_step(s) == SQLITE_ROW)
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

domain::ImageRecord record(const std::string& id, const std::string& user) {
  domain::ImageRecord r;
  r.id = id;
  r.user_id = user;
  r.original_filename = "a.jpg";
  r.mime_type = "image/jpeg";
  r.s3_key = "legacy/" + id + ".jpg";
  r.s3_bucket = "local";
  r.processing_status = "completed";
  r.format = "jpeg";
  r.tags = {"x"};
  r.created_at_ms = r.updated_at_ms = r.uploaded_at_ms = 1000;
  return r;
}

struct SqliteSchema : ::testing::Test {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("isvc-schema-" + std::to_string(::getpid()));
  std::string path = (dir / "metadata.db").string();
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
};

// The images table as schema version 3 created it, with one active row of alice's.
const char* kVersion3 = R"SQL(
CREATE TABLE images (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, album_id TEXT,
  original_filename TEXT NOT NULL, mime_type TEXT NOT NULL,
  file_size INTEGER NOT NULL, processed_size INTEGER NOT NULL, thumbnail_size INTEGER NOT NULL,
  width INTEGER NOT NULL, height INTEGER NOT NULL,
  s3_key TEXT NOT NULL, s3_bucket TEXT NOT NULL, thumbnail_key TEXT,
  processing_status TEXT NOT NULL, processing_error TEXT, format TEXT NOT NULL,
  quality INTEGER NOT NULL, title TEXT, description TEXT, alt_text TEXT, tags TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL, uploaded_at_ms INTEGER NOT NULL,
  version INTEGER NOT NULL, state INTEGER NOT NULL);
CREATE TABLE uploads (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, fields TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL, completed_image_id TEXT,
  claim_until_ms INTEGER NOT NULL DEFAULT 0);
INSERT INTO images VALUES ('01J00000000000000000000001', 'alice', NULL, 'a.jpg', 'image/jpeg',
  10, 6, 1, 40, 30, 'images/alice/01J00000000000000000000001.webp', 'local',
  'images/alice/thumbnails/01J00000000000000000000001.webp', 'completed', NULL, 'webp', 85,
  'old', NULL, NULL, '["x"]', 1000, 1000, 1000, 1, 0);
PRAGMA user_version = 3;
)SQL";

TEST_F(SqliteSchema, AVersion3FileIsMigratedAndItsRowsTakePlaceholdersLater) {
  exec(path, kVersion3);
  {
    SqliteMetadataStore store(path, 1, "NORMAL");
    auto r = store.get("01J00000000000000000000001");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->title, "old");
    EXPECT_EQ(r->tags, std::vector<std::string>{"x"});
    EXPECT_EQ(r->thumbhash, std::nullopt);
    EXPECT_EQ(r->dominant_color, std::nullopt);
    auto next = *r;
    next.thumbhash = "ZAUKNJpwd3dweHh4iHeAcAf3iA==";
    next.dominant_color = "#2563b4";
    next.version = 2;
    ASSERT_TRUE(store.update(next, 1).ok());
  }
  EXPECT_EQ(user_version(path), 5);
  SqliteMetadataStore reopened(path, 1, "NORMAL");  // a second open migrates nothing
  auto r = reopened.get("01J00000000000000000000001");
  EXPECT_EQ(r->thumbhash, "ZAUKNJpwd3dweHh4iHeAcAf3iA==");
  EXPECT_EQ(r->dominant_color, "#2563b4");
  EXPECT_EQ(r->version, 2);
}

// Version 4 (placeholders, image_tags without the takenAt key): migrated to 5, its rows have no
// EXIF facts or hash, sort by takenAt at their upload time (also by tag) and take facts later.
const char* kVersion4 = R"SQL(
CREATE TABLE images (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, album_id TEXT,
  original_filename TEXT NOT NULL, mime_type TEXT NOT NULL,
  file_size INTEGER NOT NULL, processed_size INTEGER NOT NULL, thumbnail_size INTEGER NOT NULL,
  width INTEGER NOT NULL, height INTEGER NOT NULL,
  s3_key TEXT NOT NULL, s3_bucket TEXT NOT NULL, thumbnail_key TEXT,
  processing_status TEXT NOT NULL, processing_error TEXT, format TEXT NOT NULL,
  quality INTEGER NOT NULL, title TEXT, description TEXT, alt_text TEXT, tags TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL, uploaded_at_ms INTEGER NOT NULL,
  version INTEGER NOT NULL, state INTEGER NOT NULL, thumbhash TEXT, dominant_color TEXT);
CREATE TABLE image_tags (
  image_id TEXT NOT NULL, user_id TEXT NOT NULL, album_id TEXT, tag TEXT NOT NULL,
  uploaded_at_ms INTEGER NOT NULL, PRIMARY KEY (image_id, tag));
INSERT INTO images VALUES ('01J00000000000000000000002', 'bob', NULL, 'b.jpg', 'image/jpeg',
  10, 6, 1, 40, 30, 'images/bob/01J00000000000000000000002.webp', 'local',
  'images/bob/thumbnails/01J00000000000000000000002.webp', 'completed', NULL, 'webp', 85,
  NULL, NULL, NULL, '["y"]', 2000, 2000, 2000, 1, 0, NULL, NULL);
INSERT INTO image_tags VALUES ('01J00000000000000000000002', 'bob', NULL, 'y', 2000);
PRAGMA user_version = 4;
)SQL";

TEST_F(SqliteSchema, AVersion4FileIsMigratedAndItsRowsSortByTakenAtAsUploaded) {
  exec(path, kVersion4);
  {
    SqliteMetadataStore store(path, 1, "NORMAL");
    auto r = store.get("01J00000000000000000000002");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->exif, std::nullopt);
    EXPECT_EQ(r->sha256, std::nullopt);
    domain::ListQuery q;
    q.user_id = "bob";
    q.sort_by = domain::SortBy::TakenAt;
    q.after = domain::ListPosition{2001, "01J00000000000000000000009"};
    EXPECT_EQ(store.list(q).items.size(), 1u);  // key 2000 < 2001
    q.tag = "y";
    EXPECT_EQ(store.list(q).items.size(), 1u);
    q.after = domain::ListPosition{1999, "01J00000000000000000000009"};
    EXPECT_EQ(store.list(q).items.size(), 0u);
    auto next = *r;
    domain::ExifFacts ex;
    ex.taken_at = "2001-01-01T00:00:00";
    next.exif = ex;
    next.sha256 = std::string(64, 'e');
    next.version = 2;
    ASSERT_TRUE(store.update(next, 1).ok());
  }
  EXPECT_EQ(user_version(path), 5);
  SqliteMetadataStore reopened(path, 1, "NORMAL");
  auto r = reopened.get("01J00000000000000000000002");
  EXPECT_EQ(r->exif->taken_at, "2001-01-01T00:00:00");
  EXPECT_EQ(r->sha256, std::string(64, 'e'));
  domain::ListQuery q;
  q.user_id = "bob";
  q.tag = "y";
  q.sort_by = domain::SortBy::TakenAt;
  q.after = domain::ListPosition{978307200001, "01J00000000000000000000009"};
  EXPECT_EQ(reopened.list(q).items.size(), 1u);  // the tag row follows the new key
}

TEST_F(SqliteSchema, AnOlderFileGainsTheWebhookOutbox) {
  exec(path, kVersion3);
  {
    SqliteMetadataStore store(path, 1, "NORMAL");
    domain::OutboxEvent e;
    e.target = "t";
    e.id = "msg_1";
    e.type = "user.erased";
    e.order_key = "user:alice";
    e.body = "{}";
    store.append_events({e});
    EXPECT_EQ(store.pending_events("t"), 1);
  }
  EXPECT_EQ(user_version(path), 5);
  SqliteMetadataStore reopened(path, 1, "NORMAL");
  auto got = reopened.claim_events("t", "a", 10, 20, 5);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "msg_1");
}

TEST_F(SqliteSchema, AFileFromANewerBuildIsRefused) {
  exec(path, "PRAGMA user_version = 6;");
  EXPECT_THROW(SqliteMetadataStore(path, 1, "NORMAL"), domain::Error);
}

}  // namespace
}  // namespace isvc::storage

namespace isvc::storage {
namespace {

// The migration's bulk load: the listing indexes are dropped only in an empty store, rebuilt by
// finish_bulk_load(), and by the next open of the file when the loading process died first.
TEST_F(SqliteSchema, ABulkLoadDropsTheListingIndexesOnlyWhenEmptyAndEveryOpenRestoresThem) {
  std::vector<std::string> all;
  {
    SqliteMetadataStore store(path, 1);
    all = indexes(path);
    ASSERT_EQ(all.size(), 13u);
    ASSERT_TRUE(store.begin_bulk_load());
    auto during = indexes(path);
    EXPECT_EQ(during, (std::vector<std::string>{"idempotency_by_expiry", "images_by_s3_key",
                                                "images_by_thumbnail_key", "uploads_by_expiry",
                                                "webhook_outbox_by_key"}));
    store.import_batch({record("a1", "alice")});
    store.finish_bulk_load();
    EXPECT_EQ(indexes(path), all);
    EXPECT_FALSE(store.begin_bulk_load());  // a row: nothing is dropped
    EXPECT_EQ(indexes(path), all);
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    SqliteMetadataStore store(path, 1);
    ASSERT_TRUE(store.begin_bulk_load());
    store.import_batch({record("b1", "bob")});
  }  // the process dies here, in effect: finish_bulk_load() never runs
  EXPECT_LT(indexes(path).size(), all.size());
  SqliteMetadataStore again(path, 1);
  EXPECT_EQ(indexes(path), all);
  domain::ListQuery q;
  q.user_id = "bob";
  q.limit = 10;
  auto page = again.list(q);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, "b1");
}

}  // namespace
}  // namespace isvc::storage
