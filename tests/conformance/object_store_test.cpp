// The domain::ObjectStore contract, run against every adapter (one factory line each).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <thread>

#include "domain/model/error.h"
#include "domain/ports/object_store.h"
#include "engine_process.h"
#include "storage/fs_object_store.h"
#include "storage/s3_object_store.h"

namespace isvc::storage {
namespace {

struct ObjectStoreFactory {
  std::string name;
  std::function<std::unique_ptr<domain::ObjectStore>(const std::string& dir)> make;
};

std::ostream& operator<<(std::ostream& os, const ObjectStoreFactory& f) {
  return os << f.name;
}

class ObjectStoreConformance : public ::testing::TestWithParam<ObjectStoreFactory> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("isvc-obj-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    store = GetParam().make(dir_.string());
  }
  void TearDown() override {
    store.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<domain::ObjectStore> store;
  std::filesystem::path dir_;

 private:
  static inline std::atomic<int> counter_{0};
};

TEST_P(ObjectStoreConformance, PutGetHeadRemove) {
  std::string bytes("RIFF\0\0\0\0WEBPdata\r\n\0tail", 24);
  store->put("images/u1/a.webp", bytes, "image/webp");
  auto got = store->get("images/u1/a.webp");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->bytes, bytes);
  EXPECT_EQ(got->info.size, 24);
  EXPECT_EQ(got->info.content_type, "image/webp");
  EXPECT_EQ(got->info.etag.size(), 32u);
  auto head = store->head("images/u1/a.webp");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->etag, got->info.etag);
  EXPECT_GT(head->last_modified_ms, 0);
  store->remove("images/u1/a.webp");
  EXPECT_FALSE(store->get("images/u1/a.webp"));
  EXPECT_FALSE(store->head("images/u1/a.webp"));
  EXPECT_NO_THROW(store->remove("images/u1/a.webp"));
}

TEST_P(ObjectStoreConformance, RemoveAllDeletesEveryKeyAndSkipsMissingOnes) {
  std::vector<std::string> keys;
  for (int i = 0; i < 5; ++i) {
    keys.push_back("images/u2/variants/01J/" + std::to_string(320 * (i + 1)) + ".webp");
    store->put(keys.back(), "v" + std::to_string(i), "image/webp");
  }
  store->put("images/u2/keep.webp", "k", "image/webp");
  keys.push_back("images/u2/never-stored.webp");
  keys.push_back("images/u2/a&b<c>.webp");  // XML-special characters in a key
  store->put(keys.back(), "x", "image/webp");
  store->remove_all(keys);
  for (const auto& k : keys) EXPECT_FALSE(store->head(k)) << k;
  EXPECT_TRUE(store->head("images/u2/keep.webp"));
  EXPECT_NO_THROW(store->remove_all(keys));  // again: nothing left, not an error
  EXPECT_NO_THROW(store->remove_all({}));
  store->remove_all({"images/u2/keep.webp"});
  EXPECT_FALSE(store->head("images/u2/keep.webp"));
}

TEST_P(ObjectStoreConformance, RangesReturnExactSlices) {
  std::string bytes;
  for (int i = 0; i < 1000; ++i) bytes += char(i % 251);
  store->put("images/u/r.webp", bytes, "image/webp");
  auto r = store->get("images/u/r.webp", domain::ByteRange{100, 199});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, bytes.substr(100, 100));
  EXPECT_EQ(r->info.size, 1000);
  EXPECT_EQ(store->get("images/u/r.webp", domain::ByteRange{990, 999})->bytes, bytes.substr(990));
}

TEST_P(ObjectStoreConformance, OverwriteReplacesWholeObjectAndEtag) {
  store->put("images/u/o.webp", "first version", "image/webp");
  auto e1 = store->head("images/u/o.webp")->etag;
  store->put("images/u/o.webp", "second", "image/webp");
  EXPECT_EQ(store->get("images/u/o.webp")->bytes, "second");
  EXPECT_NE(store->head("images/u/o.webp")->etag, e1);
}

TEST_P(ObjectStoreConformance, LargeObject) {
  std::string big(10 * 1024 * 1024, 'x');
  big[12345] = 'y';
  store->put("images/u/big.webp", big, "image/webp");
  EXPECT_EQ(store->get("images/u/big.webp")->bytes, big);
}

// Reads the whole object through its reader in pieces of `piece` bytes.
std::string read_pieces(domain::ObjectReader& r, int64_t size, std::size_t piece) {
  std::string out;
  std::string buf(piece, '\0');
  while (int64_t(out.size()) < size) {
    std::size_t n = r.read(int64_t(out.size()), buf.data(), piece);
    if (n == 0) break;
    out.append(buf.data(), n);
  }
  return out;
}

TEST_P(ObjectStoreConformance, OpenReadsTheSameBytesAndInfoAsGet) {
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = char((i * 2654435761u) >> 13);
  store->put("images/u/open.webp", big, "image/webp");
  store->put("images/u/small.webp", "tiny", "image/webp");
  auto got = store->get("images/u/open.webp");
  auto o = store->open("images/u/open.webp");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->info.size, int64_t(big.size()));
  EXPECT_EQ(o->info.etag, got->info.etag);
  EXPECT_EQ(o->info.content_type, "image/webp");
  EXPECT_EQ(o->info.last_modified_ms / 1000, got->info.last_modified_ms / 1000);
  EXPECT_EQ(read_pieces(*o->reader, o->info.size, 65536), big);       // the server's pieces
  EXPECT_EQ(read_pieces(*o->reader, o->info.size, big.size()), big);  // the cache's fill
  std::string mid(1000, '\0');
  ASSERT_EQ(o->reader->read(2 * 1024 * 1024 - 500, mid.data(), mid.size()), mid.size());
  EXPECT_EQ(mid, big.substr(2 * 1024 * 1024 - 500, 1000));
  char c = 0;
  EXPECT_EQ(o->reader->read(int64_t(big.size()), &c, 1), 0u);
  auto s = store->open("images/u/small.webp");
  ASSERT_TRUE(s);
  EXPECT_EQ(read_pieces(*s->reader, s->info.size, 65536), "tiny");
  EXPECT_FALSE(store->open("images/u/missing.webp"));
  EXPECT_FALSE(store->open("../x"));
}

TEST_P(ObjectStoreConformance, AnOpenObjectNeverMixesVersions) {
  std::string first(2 * 1024 * 1024 + 5, 'a'), second(2 * 1024 * 1024 + 5, 'b');
  store->put("images/u/v.webp", first, "image/webp");
  auto o = store->open("images/u/v.webp");
  ASSERT_TRUE(o);
  store->put("images/u/v.webp", second, "image/webp");  // replaced while it is read
  // Either the version that was opened, whole, or a failure: never bytes of the other one.
  try {
    EXPECT_TRUE(read_pieces(*o->reader, o->info.size, 65536) == first);  // (no 2 MB diff)
  } catch (const domain::Error& e) {
    EXPECT_EQ(e.code(), domain::ErrorCode::StorageFailed);
  }
}

TEST_P(ObjectStoreConformance, HostileKeysAreRefused) {
  for (const char* k :
       {"", "/abs", "../x", "images/../../x", "images/./x", "images//x", "images\\x", "images/x/",
        "images/\x01x", "/etc/passwd", "http://example.com/x"}) {
    EXPECT_THROW(store->put(k, "data", "image/webp"), domain::Error) << k;
    EXPECT_FALSE(store->get(k)) << k;
    EXPECT_FALSE(store->head(k)) << k;
    // Such a key cannot name an object here: removing it is a no-op, so the delete of a record
    // that points at it (imported by an older build) finishes.
    EXPECT_NO_THROW(store->remove(k)) << k;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.parent_path() / "x"));
}

TEST_P(ObjectStoreConformance, ListsByPrefixInKeyOrder) {
  store->put("images/b/2.webp", "2", "image/webp");
  store->put("images/a/1.webp", "1", "image/webp");
  store->put("images/a/thumbnails/1.webp", "t", "image/webp");
  store->put("temp/up1", "u", "application/octet-stream");
  std::vector<std::string> keys;
  store->list("images/", [&](const std::string& k, const domain::ObjectInfo& info) {
    keys.push_back(k);
    EXPECT_GT(info.size, 0);
    return true;
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"images/a/1.webp", "images/a/thumbnails/1.webp",
                                            "images/b/2.webp"}));
  keys.clear();
  store->list("images/a/", [&](const std::string& k, const domain::ObjectInfo&) {
    keys.push_back(k);
    return false;  // stop after the first
  });
  EXPECT_EQ(keys.size(), 1u);
  // A prefix that ends inside a name, one under a folder that does not exist, and the empty one.
  auto listed = [&](const std::string& prefix) {
    std::vector<std::string> out;
    store->list(prefix, [&](const std::string& k, const domain::ObjectInfo&) {
      out.push_back(k);
      return true;
    });
    return out;
  };
  EXPECT_EQ(listed("images/a/1"), std::vector<std::string>{"images/a/1.webp"});
  EXPECT_EQ(listed("images/a/thu"), std::vector<std::string>{"images/a/thumbnails/1.webp"});
  EXPECT_EQ(listed("images/a/thumbnails/"), std::vector<std::string>{"images/a/thumbnails/1.webp"});
  EXPECT_EQ(listed("images/c/"), std::vector<std::string>{});
  EXPECT_EQ(listed("images/b"), std::vector<std::string>{"images/b/2.webp"});
  EXPECT_EQ(listed("").size(), 4u);
}

TEST_P(ObjectStoreConformance, ConcurrentPutsOfDifferentKeys) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i)
        store->put("images/u" + std::to_string(t) + "/" + std::to_string(i) + ".webp",
                   std::string(1000 + i, char('a' + t)), "image/webp");
    });
  for (auto& th : threads) th.join();
  int n = 0;
  store->list("images/", [&](const std::string&, const domain::ObjectInfo&) {
    ++n;
    return true;
  });
  EXPECT_EQ(n, 160);
  EXPECT_EQ(store->get("images/u3/7.webp")->bytes, std::string(1007, 'd'));
}

std::unique_ptr<domain::ObjectStore> make_fs(const std::string& dir) {
  return std::make_unique<FsObjectStore>(dir + "/objects");
}

// A fresh bucket per test on one s3rver per test process (path-style, its fixed access key).
std::unique_ptr<domain::ObjectStore> make_s3(const std::string& dir) {
  static aws::HttpClient http;
  S3Settings s;
  s.endpoint = testing::EngineProcess::shared("s3rver").endpoint();
  s.bucket = "b-" + std::filesystem::path(dir).filename().string();
  s.force_path_style = true;
  s.credentials = {"S3RVER", "S3RVER", ""};
  auto store = std::make_unique<S3ObjectStore>(http, s);
  store->provision({"http://localhost:3002"});
  return store;
}

INSTANTIATE_TEST_SUITE_P(Adapters, ObjectStoreConformance,
                         ::testing::Values(ObjectStoreFactory{"filesystem", make_fs},
                                           ObjectStoreFactory{"s3", make_s3}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace isvc::storage
