// backfill-placeholders (domain/placeholder_backfill.h) against the faithful in-memory metadata
// fake and small fakes of the object store and processor: what it fills, skips and reports, that a
// dry run writes nothing, that a second run has nothing to do, the limit, and that an edit made
// while a record is being processed wins and is picked up by the next run.
#include "domain/placeholder_backfill.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "domain/model/error.h"
#include "memory_metadata.h"

namespace isvc::domain {
namespace {

class Objects : public ObjectStore {
 public:
  std::map<std::string, std::string> objects;
  void put(const std::string& k, std::string_view b, const std::string&) override {
    objects[k] = std::string(b);
  }
  std::optional<ObjectInfo> head(const std::string& k) override {
    if (!objects.count(k)) return std::nullopt;
    return ObjectInfo{int64_t(objects[k].size()), 0, "e", "image/webp"};
  }
  std::optional<ObjectData> get(const std::string& k, std::optional<ByteRange>) override {
    if (!objects.count(k)) return std::nullopt;
    return ObjectData{*head(k), objects[k]};
  }
  void remove(const std::string& k) override { objects.erase(k); }
  void list(const std::string&,
            const std::function<bool(const std::string&, const ObjectInfo&)>&) override {}
  std::string name() const override { return "memory"; }
  std::string bucket() const override { return "local"; }
  bool healthy() override { return true; }
};

// "IMG:<bytes>" decodes to placeholders whose hash is <bytes>; anything else is not an image.
class Processor : public ImageProcessor {
 public:
  int calls = 0;
  std::function<void()> during;  // runs inside placeholders(), e.g. a concurrent edit
  ProcessedImage process(std::string_view, const ProcessContext&) override { return {}; }
  ProbeResult probe(std::string_view) override { return {}; }
  std::string render_variant(std::string_view, int, int, VariantFormat) override {
    throw Error(ErrorCode::Internal, "not used by the backfill");
  }
  Placeholders placeholders(std::string_view bytes, const ProcessContext&) override {
    ++calls;
    if (during) during();
    if (bytes.rfind("IMG:", 0) != 0) throw Error(ErrorCode::InvalidImage, "not an image");
    return {std::string(bytes.substr(4)), "#abcdef"};
  }
};

struct Backfill : ::testing::Test {
  testing::MemoryMetadata meta;
  Objects objects;
  Processor processor;
  BackfillPorts ports{meta, meta, objects, processor};

  ImageRecord add(const std::string& id, const char* main_bytes, bool has_placeholders = false) {
    ImageRecord r;
    r.id = id;
    r.user_id = "alice";
    r.original_filename = "a.jpg";
    r.mime_type = "image/jpeg";
    r.s3_key = "legacy/" + id + ".jpg";
    r.s3_bucket = "local";
    r.created_at_ms = r.updated_at_ms = r.uploaded_at_ms = 1000;
    if (has_placeholders) {
      r.thumbhash = "AAAA";
      r.dominant_color = "#000000";
    }
    EXPECT_TRUE(meta.insert(r).ok());
    if (main_bytes) objects.objects[r.s3_key] = main_bytes;
    return r;
  }
  BackfillReport run(bool dry_run = false, std::optional<int64_t> limit = {}) {
    BackfillOptions o;
    o.dry_run = dry_run;
    o.limit = limit;
    return run_placeholder_backfill(ports, o);
  }
};

// Ids in scan order (the fake scans by id).
const std::string kA = "01J00000000000000000000001", kB = "01J00000000000000000000002",
                  kC = "01J00000000000000000000003", kD = "01J00000000000000000000004",
                  kE = "01J00000000000000000000005";

TEST_F(Backfill, FillsWhatLacksThemSkipsTheRestAndReports) {
  auto a = add(kA, "IMG:\x01\x02\x03");
  auto b = add(kB, "IMG:zz", true);
  add(kC, "IMG:cc");
  meta.mark_deleting(kC);
  add(kD, nullptr);  // main image missing
  add(kE, "GIF89a");

  auto dry = run(true);
  EXPECT_EQ(dry.scanned, 5);
  EXPECT_EQ(dry.lacking, 3);  // A, D, E (B has them, C is being deleted)
  EXPECT_EQ(dry.filled, 1);
  EXPECT_EQ(dry.no_source, 1);
  EXPECT_EQ(dry.failed, 1);
  EXPECT_EQ(dry.unresolved(), 2);
  EXPECT_EQ(dry.no_source_ids, std::vector<std::string>{kD});
  EXPECT_EQ(dry.failed_ids, std::vector<std::string>{kE});
  EXPECT_EQ(*meta.get(kA), a);  // nothing written

  auto r = run();
  EXPECT_EQ(r.filled, 1);
  EXPECT_EQ(r.unresolved(), 2);
  auto got = *meta.get(kA);
  EXPECT_EQ(got.thumbhash, "AQID");  // base64 of the processor's bytes
  EXPECT_EQ(got.dominant_color, "#abcdef");
  EXPECT_EQ(got.version, a.version + 1);
  EXPECT_EQ(got.updated_at_ms, a.updated_at_ms);  // derived data: not an edit
  EXPECT_EQ(*meta.get(kB), b);
  EXPECT_EQ(meta.get(kC)->thumbhash, std::nullopt);

  // Resumable: what is done is skipped; only the two that cannot be done are looked at again.
  processor.calls = 0;
  auto again = run();
  EXPECT_EQ(again.lacking, 2);
  EXPECT_EQ(again.filled, 0);
  EXPECT_EQ(processor.calls, 1);  // E only: D has no object to decode
  EXPECT_EQ(meta.get(kA)->version, a.version + 1);
}

TEST_F(Backfill, TheLimitCountsRecordsLookedAtAndTheRestIsLeftForLater) {
  add(kA, "IMG:a");
  add(kB, "IMG:b");
  add(kC, "IMG:c");
  auto first = run(false, 2);
  EXPECT_EQ(first.filled, 2);
  EXPECT_EQ(first.left, 1);
  EXPECT_EQ(first.unresolved(), 0);
  auto second = run(false, 2);
  EXPECT_EQ(second.lacking, 1);
  EXPECT_EQ(second.filled, 1);
  EXPECT_EQ(second.left, 0);
  EXPECT_EQ(meta.get(kC)->thumbhash, "Yw==");
}

TEST_F(Backfill, AnEditDuringProcessingWinsAndTheNextRunFillsTheRecord) {
  add(kA, "IMG:a");
  processor.during = [&] {
    auto cur = *meta.get(kA);
    auto edited = cur;
    edited.title = "edited meanwhile";
    edited.version = cur.version + 1;
    ASSERT_TRUE(meta.update(edited, cur.version).ok());
    processor.during = nullptr;
  };
  auto r = run();
  EXPECT_EQ(r.conflicts, 1);
  EXPECT_EQ(r.filled, 0);
  EXPECT_EQ(r.unresolved(), 1);
  EXPECT_EQ(meta.get(kA)->title, "edited meanwhile");
  EXPECT_EQ(meta.get(kA)->thumbhash, std::nullopt);

  auto next = run();
  EXPECT_EQ(next.filled, 1);
  EXPECT_EQ(meta.get(kA)->title, "edited meanwhile");
  EXPECT_EQ(meta.get(kA)->thumbhash, "YQ==");
}

TEST_F(Backfill, AStoreFailureStopsTheRunInsteadOfCountingAsABadImage) {
  add(kA, "IMG:a");
  processor.during = [] { throw Error(ErrorCode::Unavailable, "pool full"); };
  EXPECT_THROW(run(), Error);
}

}  // namespace
}  // namespace isvc::domain
