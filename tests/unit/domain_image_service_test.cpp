// The use cases against in-memory fakes of the ports (the metadata fake is the faithful one in
// tests/support, which pages, filters and refuses like the adapters): ownership and roles,
// validation order, optimistic locking, compensation on failed uploads, resumable deletes.
#include "base/crypto.h"
#include "base/encoding.h"
#include "domain/direct_upload.h"
#include "domain/image_service.h"
#include "domain/model/object_keys.h"
#include "domain/variants.h"
#include "memory_metadata.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

namespace isvc::domain {
namespace {

using testing::MemoryMetadata;  // tests/support: passes the metadata conformance suite

class MemoryObjects : public domain::ObjectStore {
 public:
  std::mutex mu;
  std::map<std::string, std::string> objects;
  bool fail_remove = false;
  bool fail_put_thumbnail = false;
  const Clock* clock = nullptr;
  std::map<std::string, int64_t> modified;

  void put(const std::string& k, std::string_view b, const std::string&) override {
    std::lock_guard l(mu);
    if (fail_put_thumbnail && k.find("/thumbnails/") != std::string::npos)
      throw Error(ErrorCode::StorageFailed, "write failed");
    objects[k] = std::string(b);
    modified[k] = clock ? clock->now_ms() : 0;
  }
  std::optional<domain::ObjectInfo> head(const std::string& k) override {
    std::lock_guard l(mu);
    if (!objects.count(k)) return std::nullopt;
    return domain::ObjectInfo{int64_t(objects[k].size()), 0, "e", "image/webp"};
  }
  std::optional<domain::ObjectData> get(const std::string& k,
                                        std::optional<domain::ByteRange>) override {
    std::lock_guard l(mu);
    if (!objects.count(k)) return std::nullopt;
    return domain::ObjectData{{int64_t(objects[k].size()), 0, "e", "image/webp"}, objects[k]};
  }
  void remove(const std::string& k) override {
    std::lock_guard l(mu);
    if (fail_remove) throw Error(ErrorCode::StorageFailed, "remove failed");
    objects.erase(k);
  }
  void list(const std::string& prefix,
            const std::function<bool(const std::string&, const domain::ObjectInfo&)>& f) override {
    std::vector<std::pair<std::string, domain::ObjectInfo>> items;
    {
      std::lock_guard l(mu);
      for (auto& [k, v] : objects)
        if (k.rfind(prefix, 0) == 0)
          items.push_back({k, domain::ObjectInfo{int64_t(v.size()), modified[k], "e", ""}});
    }
    for (auto& [k, info] : items)
      if (!f(k, info)) return;
  }
  std::string name() const override { return "memory"; }
  std::string bucket() const override { return "local"; }
  bool healthy() override { return true; }
};

class FakeProcessor : public domain::ImageProcessor {
 public:
  int processed = 0;
  std::string request_id;  // of the last process() call
  domain::ExifFacts exif;  // what process() reads from the "original"
  domain::ProbeResult probe(std::string_view bytes) override {
    if (bytes.rfind("IMG", 0) != 0) throw Error(ErrorCode::InvalidFileType, "not an image");
    return {domain::ImageFormat::Png, 640, 480};
  }
  domain::ProcessedImage process(std::string_view bytes,
                                 const domain::ProcessContext& ctx = {}) override {
    ++processed;
    request_id = ctx.request_id;
    domain::ProcessedImage out;
    out.probe = probe(bytes);
    out.main_webp = "MAIN";
    out.thumb_webp = "THUMB!";
    out.placeholders = {"\x01\x02\xfe", "#102030"};
    out.exif = exif;
    return out;
  }
  std::atomic<int> variants_rendered{0};
  std::string render_variant(std::string_view source, int width, int height,
                             domain::VariantFormat format) override {
    ++variants_rendered;
    return std::string(source) + ":" + std::to_string(width) + "x" + std::to_string(height) + ":" +
           (format == domain::VariantFormat::Avif ? "avif" : "webp");
  }
  domain::Placeholders placeholders(std::string_view, const domain::ProcessContext&) override {
    return {};
  }
};

struct Fixture : ::testing::Test {
  ManualClock clock{1736937000000};
  MemoryMetadata meta;
  MemoryObjects objects;
  FakeProcessor processor;
  base::BoundedPool cpu{1, 4};
  UlidGenerator ids{clock};
  CursorCodec cursors{"secret"};
  obs::ServiceMetrics metrics;
  ImageService svc{
      ServiceDeps{meta, objects, processor, cpu, ids, clock, cursors, metrics, nullptr}, {}};
  Caller alice{"alice", CallerRole::User};
  Caller bob{"bob", CallerRole::User};
  Caller admin{"root", CallerRole::Admin};
  Caller service{"legacy-api", CallerRole::Service};

  ImageRecord upload_one(const Caller& c) {
    UploadRequest r;
    r.bytes = "IMG-bytes";
    r.filename = "../../etc/castle.png";
    r.tags = {" castle ", "", "medieval", "castle"};
    return svc.upload(c, r);
  }
};

ErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::Internal;
}

TEST_F(Fixture, UploadStoresObjectsThenMetadata) {
  auto rec = upload_one(alice);
  EXPECT_TRUE(is_ulid(rec.id));
  EXPECT_EQ(rec.user_id, "alice");
  EXPECT_EQ(rec.original_filename, "castle.png");
  EXPECT_EQ(rec.mime_type, "image/png");
  EXPECT_EQ(rec.file_size, 9);
  EXPECT_EQ(rec.processed_size, 4);
  EXPECT_EQ(rec.s3_key, "images/alice/" + rec.id + ".webp");
  EXPECT_EQ(rec.thumbnail_key, "images/alice/thumbnails/" + rec.id + ".webp");
  EXPECT_EQ(rec.tags, (std::vector<std::string>{"castle", "medieval"}));
  EXPECT_EQ(rec.version, 1);
  EXPECT_EQ(rec.uploaded_at_ms, clock.now_ms());
  EXPECT_EQ(objects.objects.at(rec.s3_key), "MAIN");
  EXPECT_EQ(objects.objects.at(*rec.thumbnail_key), "THUMB!");
  EXPECT_EQ(rec.thumbhash, "AQL+");  // the processor's bytes in base64
  EXPECT_EQ(rec.dominant_color, "#102030");
  EXPECT_EQ(meta.rows.at(rec.id), rec);
}

TEST_F(Fixture, TheRequestIdReachesTheProcessor) {
  UploadRequest r;
  r.bytes = "IMG-bytes";
  r.request_id = "req-42";
  svc.upload(alice, r);
  EXPECT_EQ(processor.request_id, "req-42");
}

TEST_F(Fixture, TooLargeIsRefusedBeforeAnythingElse) {
  UploadRequest r;
  std::string big(10 * 1024 * 1024 + 1, 'x');
  r.bytes = big;
  EXPECT_EQ(code_of([&] { svc.upload(alice, r); }), ErrorCode::FileTooLarge);
  EXPECT_EQ(processor.processed, 0);
}

TEST_F(Fixture, FieldErrorsComeBeforeDecoding) {
  UploadRequest r;
  r.bytes = "IMG";
  r.title = std::string(256, 'a');
  EXPECT_EQ(code_of([&] { svc.upload(alice, r); }), ErrorCode::ValidationFailed);
  r.title.reset();
  r.album_id = "bad album";
  EXPECT_EQ(code_of([&] { svc.upload(alice, r); }), ErrorCode::ValidationFailed);
  EXPECT_EQ(processor.processed, 0);
  r.bytes = "GIF89a";
  EXPECT_EQ(code_of([&] { svc.upload(alice, r); }), ErrorCode::InvalidFileType);
}

TEST_F(Fixture, FailedMetadataWriteRemovesTheObjects) {
  meta.fail_insert = true;
  EXPECT_EQ(code_of([&] { upload_one(alice); }), ErrorCode::StorageFailed);
  EXPECT_TRUE(objects.objects.empty());
  EXPECT_EQ(metrics.uploads_failed.load(), 1u);
}

TEST_F(Fixture, FailedObjectWriteRemovesTheOtherObject) {
  objects.fail_put_thumbnail = true;
  EXPECT_EQ(code_of([&] { upload_one(alice); }), ErrorCode::StorageFailed);
  EXPECT_TRUE(objects.objects.empty());
  EXPECT_TRUE(meta.rows.empty());
}

TEST_F(Fixture, OwnershipAndRoles) {
  auto rec = upload_one(alice);
  EXPECT_EQ(svc.get(alice, rec.id).id, rec.id);
  EXPECT_EQ(svc.get(admin, rec.id).id, rec.id);
  EXPECT_EQ(svc.get(service, rec.id).id, rec.id);
  EXPECT_EQ(code_of([&] { svc.get(bob, rec.id); }), ErrorCode::NotAuthorized);
  UpdateRequest up;
  up.version = 1;
  up.title = std::optional<std::string>("x");
  EXPECT_EQ(code_of([&] { svc.update(bob, rec.id, up); }), ErrorCode::NotAuthorized);
  EXPECT_EQ(code_of([&] { svc.update(service, rec.id, up); }), ErrorCode::NotAuthorized);
  EXPECT_EQ(code_of([&] { svc.remove(bob, rec.id); }), ErrorCode::NotAuthorized);
  EXPECT_EQ(code_of([&] { svc.remove(service, rec.id); }), ErrorCode::NotAuthorized);
  EXPECT_EQ(svc.update(admin, rec.id, up).version, 2);
  svc.remove(admin, rec.id);
  EXPECT_TRUE(meta.rows.empty());
}

TEST_F(Fixture, IdsAreValidatedBeforeLookup) {
  EXPECT_EQ(code_of([&] { svc.get(alice, "nope"); }), ErrorCode::InvalidImageId);
  EXPECT_EQ(code_of([&] { svc.get(alice, "01ARZ3NDEKTSV4RRFFQ69G5FAV"); }),
            ErrorCode::ImageNotFound);
  EXPECT_EQ(code_of([&] { svc.get(alice, "123e4567-e89b-12d3-a456-426614174000"); }),
            ErrorCode::ImageNotFound);
}

TEST_F(Fixture, UpdateAppliesFieldsAndChecksVersion) {
  auto rec = upload_one(alice);
  clock.advance(5000);
  UpdateRequest up;
  up.version = 1;
  up.title = std::optional<std::string>("Castle");
  up.tags = std::vector<std::string>{"a", " a ", "b"};
  up.album_id = std::optional<std::string>("album-1");
  auto out = svc.update(alice, rec.id, up);
  EXPECT_EQ(out.version, 2);
  EXPECT_EQ(out.title, "Castle");
  EXPECT_EQ(out.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(out.album_id, "album-1");
  EXPECT_EQ(out.updated_at_ms, rec.updated_at_ms + 5000);
  EXPECT_EQ(out.created_at_ms, rec.created_at_ms);

  try {
    svc.update(alice, rec.id, up);  // still version 1
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::VersionMismatch);
    EXPECT_EQ(e.current_version, 2);
  }
  UpdateRequest clear;
  clear.version = 2;
  clear.album_id = std::optional<std::string>();
  EXPECT_EQ(svc.update(alice, rec.id, clear).album_id, std::nullopt);
}

TEST_F(Fixture, DeleteThatFailsHalfWayIsHiddenAndFinishedByARetry) {
  auto rec = upload_one(alice);
  objects.fail_remove = true;
  EXPECT_EQ(code_of([&] { svc.remove(alice, rec.id); }), ErrorCode::S3DeleteFailed);
  EXPECT_EQ(meta.rows.at(rec.id).state, ImageState::Deleting);
  EXPECT_EQ(code_of([&] { svc.get(alice, rec.id); }), ErrorCode::ImageNotFound);
  EXPECT_EQ(svc.list(alice, {}).total_count, 0);
  objects.fail_remove = false;
  svc.remove(alice, rec.id);
  EXPECT_TRUE(meta.rows.empty());
  EXPECT_TRUE(objects.objects.empty());
  EXPECT_EQ(code_of([&] { svc.remove(alice, rec.id); }), ErrorCode::ImageNotFound);
}

TEST_F(Fixture, DisplayFieldsLoseInvisibleCharactersOnUploadAndUpdate) {
  UploadRequest r;
  r.bytes = "IMG-bytes";
  r.filename = "photo\u202Egpj.exe";
  r.title = "ti\u200Btle";
  r.description = "line\u2066 1\nline 2";
  r.alt_text = "\uFEFFalt";
  r.tags = {"\u200Bsea", "sea", "\u2068"};
  auto rec = svc.upload(alice, r);
  EXPECT_EQ(rec.original_filename, "photogpj.exe");
  EXPECT_EQ(rec.title, "title");
  EXPECT_EQ(rec.description, "line 1\nline 2");
  EXPECT_EQ(rec.alt_text, "alt");
  EXPECT_EQ(rec.tags, (std::vector<std::string>{"sea"}));
  UpdateRequest up;
  up.version = 1;
  up.title = std::optional<std::string>("new\u202Dtitle");
  up.tags = std::vector<std::string>{"a\u200Eb"};
  auto out = svc.update(alice, rec.id, up);
  EXPECT_EQ(out.title, "newtitle");
  EXPECT_EQ(out.tags, (std::vector<std::string>{"ab"}));
  ListRequest lr;
  lr.tag = "a\u200Bb";  // filters match what is stored
  EXPECT_EQ(svc.list(alice, lr).total_count, 1);
  r.title = "bell\x07";  // other controls are still refused
  EXPECT_EQ(code_of([&] { svc.upload(alice, r); }), ErrorCode::ValidationFailed);
}

TEST_F(Fixture, ImportNeverChangesTheOwner) {
  LegacyRecord l;
  l.id = "123e4567-e89b-12d3-a456-426614174000";
  l.user_id = "alice";
  l.original_filename = "a.jpg";
  l.mime_type = "image/jpeg";
  l.s3_key = "gallery/alice/a.jpg";
  l.created_at_ms = 1000;
  EXPECT_EQ(svc.import_legacy(service, l).second, ImportOutcome::Created);
  auto theft = l;
  theft.user_id = "bob";
  theft.updated_at_ms = 99'000;
  try {
    svc.import_legacy(service, theft);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::OwnerConflict);
    EXPECT_EQ(e.details().at("field"), "userId");
  }
  EXPECT_EQ(meta.rows.at(l.id).user_id, "alice");
  EXPECT_EQ(meta.rows.at(l.id).version, 1);
  EXPECT_EQ(meta.import_batch({map_legacy(theft, "local")})[0], ImportOutcome::OwnerConflict);
  theft.user_id = "alice";  // the owner's own newer copy is an update
  EXPECT_EQ(svc.import_legacy(service, theft).second, ImportOutcome::Updated);
  auto bad = l;
  bad.id = "123e4567-e89b-12d3-a456-426614174001";
  bad.s3_key = "../../x";
  EXPECT_EQ(code_of([&] { svc.import_legacy(service, bad); }), ErrorCode::ValidationFailed);
}

TEST_F(Fixture, ErasureFinishesStuckDeletesAndCountsThem) {
  auto a = upload_one(alice);
  auto b = upload_one(alice);
  auto other = upload_one(bob);
  objects.fail_remove = true;
  EXPECT_EQ(code_of([&] { svc.remove(alice, a.id); }), ErrorCode::S3DeleteFailed);  // stuck
  auto done = svc.erase_user(alice, "alice", clock.now_ms() + 1000);
  EXPECT_EQ(done.deleted, 0);
  EXPECT_EQ(done.remaining, 2);  // b failed too: both hidden, neither gone
  EXPECT_EQ(meta.rows.at(b.id).state, ImageState::Deleting);
  objects.fail_remove = false;
  done = svc.erase_user(alice, "alice", clock.now_ms() + 1000);
  EXPECT_EQ(done.deleted, 2);
  EXPECT_EQ(done.remaining, 0);
  EXPECT_FALSE(meta.rows.count(a.id));
  EXPECT_FALSE(objects.objects.count(a.s3_key));
  EXPECT_TRUE(meta.rows.count(other.id));
}

// The fake pages like the stores, so paging through the use case is tested here, not only in
// the HTTP suite.
TEST_F(Fixture, ListPagesWithCursorsNewestFirstAndFiltersByTag) {
  std::vector<std::string> uploaded;
  for (int i = 0; i < 45; ++i) {
    clock.advance(1);
    UploadRequest r;
    r.bytes = "IMG-bytes";
    if (i % 3 == 0) r.tags = {"sea"};
    uploaded.push_back(svc.upload(alice, r).id);
  }
  upload_one(bob);
  std::vector<std::string> seen;
  std::vector<std::size_t> sizes;
  ListRequest r;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = svc.list(alice, r);
    EXPECT_EQ(page.total_count, 45);
    sizes.push_back(page.images.size());
    for (const auto& img : page.images) seen.push_back(img.id);
    if (!page.has_more) break;
    ASSERT_TRUE(page.next_cursor);
    r.cursor = page.next_cursor;
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{20, 20, 5}));
  EXPECT_EQ(seen, std::vector<std::string>(uploaded.rbegin(), uploaded.rend()));
  ListRequest sea;
  sea.tag = "sea";
  sea.limit = 7;
  sea.ascending = true;
  auto first = svc.list(alice, sea);
  EXPECT_EQ(first.total_count, 15);
  ASSERT_EQ(first.images.size(), 7u);
  EXPECT_EQ(first.images.front().id, uploaded[0]);
  EXPECT_TRUE(first.has_more);
}

TEST_F(Fixture, ErasureWalksEveryPageOfTheUser) {
  for (int i = 0; i < 230; ++i) {  // more than two of the erasure's pages of 100
    clock.advance(1);
    upload_one(alice);
  }
  auto kept = upload_one(bob);
  auto done = svc.erase_user(alice, "alice", clock.now_ms() + 60'000);
  EXPECT_EQ(done.deleted, 230);
  EXPECT_EQ(done.remaining, 0);
  EXPECT_EQ(meta.rows.size(), 1u);
  EXPECT_EQ(meta.rows.begin()->first, kept.id);
  EXPECT_EQ(objects.objects.size(), 2u);  // bob's main image and thumbnail
}

TEST(VariantKeys, OneSpellingPerVariant) {
  auto k = parse_variant_key("images/a%2Fb/variants/01JD0000000000000000000000/640.avif");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->encoded_user, "a%2Fb");
  EXPECT_EQ(k->image_id, "01JD0000000000000000000000");
  EXPECT_EQ(k->width, 640);
  EXPECT_EQ(k->extension, "avif");
  EXPECT_EQ(variant_object_key("a/b", "01JD0000000000000000000000", 640, "avif"),
            "images/a%2Fb/variants/01JD0000000000000000000000/640.avif");
  for (const char* bad :
       {"images/u/variants/id/0640.webp", "images/u/variants/id/640", "images/u/variants/id/.webp",
        "images/u/variants/id/640.webp/x", "images/u/thumbnails/id/640.webp", "images/u/id.webp",
        "temp/u/variants/id/640.webp", "images//variants/id/640.webp",
        "images/u/variants/id/6a.webp", "images/u/variants/id/123456.webp"})
    EXPECT_FALSE(parse_variant_key(bad)) << bad;
}

TEST(VariantList, ConfiguredWidthsUpToTheMainImageWithTheOriginalsAspect) {
  ImageRecord r;
  r.id = "01JD0000000000000000000000";
  r.user_id = "u";
  r.width = 3000;
  r.height = 2000;
  VariantSettings s;
  auto all = variants_of(r, s);
  ASSERT_EQ(all.size(), 12u);
  EXPECT_EQ(all[0].format, VariantFormat::Avif);
  EXPECT_EQ(all[0].width, 320);
  EXPECT_EQ(all[0].height, 213);
  EXPECT_EQ(all[10].width, 1600);
  EXPECT_EQ(all[10].height, 1067);  // 2000 * 1600 / 3000, not from the main image's 1365
  EXPECT_EQ(all[11].key, "images/u/variants/01JD0000000000000000000000/2048.webp");
  r.width = 900;  // portrait: main image 900 x 1350, so widths up to 640
  r.height = 1350;
  EXPECT_EQ(variants_of(r, s).size(), 4u);
  r.width = r.height = 0;  // a legacy row without dimensions
  EXPECT_TRUE(variants_of(r, s).empty());
  r.width = 5000;
  r.height = 100;
  EXPECT_EQ(main_size(r, 2048), (std::pair<int, int>{2048, 41}));
}

struct VariantFixture : Fixture {
  VariantSettings settings;
  Variants variants{meta, objects, processor, cpu, metrics, settings};
};

TEST_F(VariantFixture, MadeOnceOnFirstRequestThenReadFromTheStore) {
  UploadRequest r;
  r.bytes = "IMG-bytes";
  auto rec = svc.upload(alice, r);  // the fake probes 640 x 480
  auto key = variant_object_key("alice", rec.id, 320, "avif");
  auto got = variants.fetch(key);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->bytes, "MAIN:320x240:avif");
  EXPECT_EQ(objects.objects.at(key), "MAIN:320x240:avif");
  EXPECT_TRUE(variants.fetch(key));
  EXPECT_EQ(processor.variants_rendered, 1);
  // Nothing else exists: another width, a width above the main image, another format spelling,
  // another user's folder, a deleted image.
  for (const auto& k : {variant_object_key("alice", rec.id, 500, "avif"),
                        variant_object_key("alice", rec.id, 1024, "webp"),
                        variant_object_key("alice", rec.id, 320, "png"),
                        variant_object_key("bob", rec.id, 320, "avif")})
    EXPECT_FALSE(variants.fetch(k)) << k;
  EXPECT_EQ(processor.variants_rendered, 1);
  svc.remove(alice, rec.id);
  EXPECT_FALSE(objects.objects.count(key));  // the delete removed what was made
  EXPECT_FALSE(variants.fetch(key));
}

TEST_F(VariantFixture, ConcurrentFirstRequestsShareOneEncode) {
  UploadRequest r;
  r.bytes = "IMG-bytes";
  auto rec = svc.upload(alice, r);
  auto key = variant_object_key("alice", rec.id, 640, "webp");
  std::vector<std::thread> threads;
  std::vector<std::optional<ObjectData>> results(8);
  for (int i = 0; i < 8; ++i) threads.emplace_back([&, i] { results[i] = variants.fetch(key); });
  for (auto& t : threads) t.join();
  for (const auto& got : results) {
    ASSERT_TRUE(got);
    EXPECT_EQ(got->bytes, "MAIN:640x480:webp");
  }
  EXPECT_EQ(processor.variants_rendered, 1);
  EXPECT_EQ(metrics.variant_generations.snapshot().at({"webp"}), 1u);
}

TEST_F(Fixture, ListValidatesLimitAndBindsCursors) {
  ListRequest r;
  r.limit = 0;
  EXPECT_EQ(code_of([&] { svc.list(alice, r); }), ErrorCode::ValidationFailed);
  r.limit = 101;
  EXPECT_EQ(code_of([&] { svc.list(alice, r); }), ErrorCode::ValidationFailed);
  r.limit = 20;
  r.cursor = cursors.encode({1, "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, CursorScope{"bob", {}, {}, false});
  EXPECT_EQ(code_of([&] { svc.list(alice, r); }), ErrorCode::InvalidCursor);
}

}  // namespace
}  // namespace isvc::domain

namespace isvc::domain {
namespace {

class FixedUrls : public UploadUrlSigner {
 public:
  std::string put_url(const UploadRecord& u, int64_t exp) override {
    return "https://up.example/" + u.id + "?e=" + std::to_string(exp);
  }
};

struct DirectFixture : Fixture {
  FixedUrls urls;
  DirectUploads uploads{svc, meta, objects, urls, ids, clock, {}};
  DirectFixture() { objects.clock = &clock; }
};

TEST_F(DirectFixture, CompleteRunsTheUploadPipelineOnceAndReplays) {
  StartUploadRequest r;
  r.filename = "dir/../shot.png";
  r.content_type = "image/png";
  r.content_length = 9;
  r.title = "t";
  auto started = uploads.start(alice, r);
  EXPECT_EQ(started.url, "https://up.example/" + started.record.id +
                             "?e=" + std::to_string(clock.now_s() + 900));
  EXPECT_EQ(started.record.filename, "shot.png");
  EXPECT_EQ(code_of([&] { uploads.complete(alice, started.record.id); }),
            ErrorCode::ValidationFailed);
  uploads.receive(started.record.id, "IMG-bytes", "image/png");
  EXPECT_EQ(code_of([&] { uploads.complete(bob, started.record.id); }), ErrorCode::NotAuthorized);
  auto [img, created] = uploads.complete(alice, started.record.id);
  EXPECT_TRUE(created);
  EXPECT_EQ(img.title, "t");
  EXPECT_EQ(processor.processed, 1);
  EXPECT_FALSE(objects.objects.count(temp_object_key(started.record.id)));
  auto [again, created_again] = uploads.complete(alice, started.record.id);
  EXPECT_FALSE(created_again);
  EXPECT_EQ(again.id, img.id);
  EXPECT_EQ(processor.processed, 1);
}

TEST_F(DirectFixture, CompletePassesTheRequestIdToTheProcessor) {
  auto started =
      uploads.start(alice, StartUploadRequest{"a.png", "image/png", 9, {}, {}, {}, {}, {}});
  uploads.receive(started.record.id, "IMG-bytes", "image/png");
  uploads.complete(alice, started.record.id, "req-7");
  EXPECT_EQ(processor.request_id, "req-7");
}

TEST_F(DirectFixture, OneCompleteAtATimeAndTheDeclaredLength) {
  StartUploadRequest r{"a\u202E.png", "image/png", 9, std::string("t\u200Bt"), {}, {}, {}, {}};
  auto started = uploads.start(alice, r);
  EXPECT_EQ(started.record.filename, "a.png");
  EXPECT_EQ(started.record.title, "tt");
  const auto& id = started.record.id;
  EXPECT_EQ(code_of([&] { uploads.receive(id, "IMG-bytes!", "image/png"); }),
            ErrorCode::FileTooLarge);
  EXPECT_EQ(code_of([&] { uploads.receive(id, "IMG-byte", "image/png"); }),
            ErrorCode::ValidationFailed);
  EXPECT_EQ(code_of([&] { uploads.receive(id, "IMG-bytes", "image/jpeg"); }),
            ErrorCode::ValidationFailed);
  EXPECT_FALSE(objects.objects.count(temp_object_key(id)));
  objects.put(temp_object_key(id), "IMG-bytes-and-more", "image/png");  // behind its back
  EXPECT_EQ(code_of([&] { uploads.complete(alice, id); }), ErrorCode::FileTooLarge);
  EXPECT_FALSE(objects.objects.count(temp_object_key(id)));
  // A failed complete lets the next one in: its claim is gone.
  EXPECT_TRUE(meta.claim_upload(id, clock.now_ms(), clock.now_ms() + 1));
  meta.release_upload(id);
  uploads.receive(id, "IMG-bytes", "image/png; charset=x");

  ASSERT_TRUE(meta.claim_upload(id, clock.now_ms(), clock.now_ms() + 300'000));  // another one
  try {
    uploads.complete(alice, id);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::UploadInProgress);
    EXPECT_EQ(e.retry_after_s, 1);
  }
  EXPECT_EQ(processor.processed, 0);
  clock.advance(300'000);  // its lease ran out (the process died)
  auto [img, created] = uploads.complete(alice, id);
  EXPECT_TRUE(created);
  EXPECT_EQ(processor.processed, 1);
  EXPECT_EQ(uploads.complete(alice, id).first.id, img.id);
}

TEST_F(DirectFixture, SweepRemovesOnlyLapsedTempObjectsAndRecords) {
  StartUploadRequest r{"a.png", "image/png", 7, {}, {}, {}, {}, {}};
  auto old_upload = uploads.start(alice, r);
  uploads.receive(old_upload.record.id, "IMG-old", "image/png");
  auto kept_image = upload_one(alice);
  clock.advance(23 * 3600 * 1000);
  auto fresh = uploads.start(alice, r);
  uploads.receive(fresh.record.id, "IMG-new", "image/png");
  clock.advance(2 * 3600 * 1000);  // the first upload is now 25 h old, the second 2 h
  auto swept = uploads.sweep();
  EXPECT_EQ(swept.objects, 1);
  EXPECT_EQ(swept.records, 1);
  EXPECT_FALSE(objects.objects.count(temp_object_key(old_upload.record.id)));
  EXPECT_TRUE(objects.objects.count(temp_object_key(fresh.record.id)));
  EXPECT_TRUE(objects.objects.count(kept_image.s3_key));
  EXPECT_EQ(code_of([&] { uploads.complete(alice, old_upload.record.id); }), ErrorCode::NotFound);
}

}  // namespace
}  // namespace isvc::domain

namespace isvc::domain {
namespace {

TEST_F(Fixture, ExifFactsAreBoundedTheHashKeptAndGpsDroppedByDefault) {
  processor.exif.make = "Cam\u202Eera";
  processor.exif.taken_at = "2023-13-01T00:00:00";
  processor.exif.iso = 200;
  processor.exif.gps_latitude = 48.85837;
  processor.exif.gps_longitude = 2.29448;
  auto rec = upload_one(alice);
  ASSERT_TRUE(rec.exif);
  EXPECT_EQ(rec.exif->make, "Camera");
  EXPECT_EQ(rec.exif->taken_at, std::nullopt);
  EXPECT_EQ(rec.exif->iso, 200);
  EXPECT_EQ(rec.exif->gps_latitude, std::nullopt);
  EXPECT_EQ(rec.sha256, base::hex_encode(base::sha256("IMG-bytes")));
  EXPECT_EQ(meta.get(rec.id)->exif, rec.exif);

  ServiceSettings keep;
  keep.exif_keep_gps = true;
  ImageService gps{
      ServiceDeps{meta, objects, processor, cpu, ids, clock, cursors, metrics, nullptr}, keep};
  UploadRequest r;
  r.bytes = "IMG-other";
  auto kept = gps.upload(alice, r);
  EXPECT_DOUBLE_EQ(*kept.exif->gps_latitude, 48.8584);
  EXPECT_DOUBLE_EQ(*kept.exif->gps_longitude, 2.2945);
  processor.exif = {};
  EXPECT_EQ(upload_one(bob).exif, std::nullopt);
}

TEST_F(Fixture, DuplicateOfNamesTheOwnersEarliestCopyAndNeverAnotherUsers) {
  auto bobs = upload_one(bob);
  clock.advance(1);
  auto first = upload_one(alice);
  clock.advance(1);
  auto second = upload_one(alice);
  clock.advance(1);
  auto third = upload_one(alice);
  EXPECT_EQ(svc.duplicate_of(bobs), std::nullopt);
  EXPECT_EQ(svc.duplicate_of(first), std::nullopt);  // bob's earlier copy is not alice's
  EXPECT_EQ(svc.duplicate_of(second), first.id);
  EXPECT_EQ(svc.duplicate_of(third), first.id);
  ImageRecord imported = first;
  imported.sha256.reset();
  EXPECT_EQ(svc.duplicate_of(imported), std::nullopt);

  ListRequest q;
  q.duplicates_of = first.id;
  q.ascending = true;
  q.limit = 1;
  auto page = svc.list(alice, q);
  ASSERT_EQ(page.images.size(), 1u);
  EXPECT_EQ(page.images[0].id, second.id);
  EXPECT_EQ(page.total_count, 2);
  ASSERT_TRUE(page.next_cursor);
  q.cursor = page.next_cursor;
  page = svc.list(alice, q);
  ASSERT_EQ(page.images.size(), 1u);
  EXPECT_EQ(page.images[0].id, third.id);
  EXPECT_FALSE(page.has_more);
  // The cursor belongs to this listing only.
  ListRequest plain;
  plain.cursor = q.cursor;
  plain.ascending = true;
  EXPECT_EQ(code_of([&] { svc.list(alice, plain); }), ErrorCode::InvalidCursor);
  // Bob may not list against alice's image; combinations are refused.
  ListRequest as_bob;
  as_bob.duplicates_of = first.id;
  EXPECT_EQ(code_of([&] { svc.list(bob, as_bob); }), ErrorCode::NotAuthorized);
  ListRequest combo = as_bob;
  combo.tag = "castle";
  EXPECT_EQ(code_of([&] { svc.list(alice, combo); }), ErrorCode::ValidationFailed);
  combo.tag.reset();
  combo.sort_by = SortBy::TakenAt;
  EXPECT_EQ(code_of([&] { svc.list(alice, combo); }), ErrorCode::ValidationFailed);
}

TEST_F(Fixture, ATakenAtCursorIsRefusedByTheUploadOrderAndBack) {
  for (int i = 0; i < 3; ++i) {
    processor.exif.taken_at = "2020-01-0" + std::to_string(3 - i) + "T00:00:00";
    upload_one(alice);
    clock.advance(1);
  }
  ListRequest taken;
  taken.sort_by = SortBy::TakenAt;
  taken.ascending = true;
  taken.limit = 2;
  auto page = svc.list(alice, taken);
  ASSERT_EQ(page.images.size(), 2u);
  EXPECT_EQ(page.images[0].exif->taken_at, "2020-01-01T00:00:00");  // the last upload
  ListRequest uploaded;
  uploaded.ascending = true;
  uploaded.cursor = page.next_cursor;
  EXPECT_EQ(code_of([&] { svc.list(alice, uploaded); }), ErrorCode::InvalidCursor);
  taken.cursor = page.next_cursor;
  auto rest = svc.list(alice, taken);
  ASSERT_EQ(rest.images.size(), 1u);
  EXPECT_EQ(rest.images[0].exif->taken_at, "2020-01-03T00:00:00");
  uploaded.cursor = svc.list(alice, ListRequest{2, {}, {}, {}, true}).next_cursor;
  taken.cursor = uploaded.cursor;
  EXPECT_EQ(code_of([&] { svc.list(alice, taken); }), ErrorCode::InvalidCursor);
}

}  // namespace
}  // namespace isvc::domain
