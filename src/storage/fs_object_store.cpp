#include "storage/fs_object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "base/crypto.h"
#include "base/encoding.h"
#include "domain/model/error.h"
#include "domain/model/object_keys.h"

namespace isvc::storage {

namespace {

using domain::Error;
using domain::ErrorCode;

constexpr const char* kTempPrefix = ".tmp-";
constexpr const char* kEtagAttr = "user.isvc.etag";

Error io_error(const std::string& what, const std::string& path) {
  return Error(ErrorCode::StorageFailed,
               what + " failed for " + path + ": " + std::strerror(errno));
}

std::string content_type_for(const std::string& key) {
  auto ends = [&](const char* s) {
    std::size_t n = std::strlen(s);
    return key.size() >= n && key.compare(key.size() - n, n, s) == 0;
  };
  if (ends(".webp")) return "image/webp";
  if (ends(".avif")) return "image/avif";
  if (ends(".jpg") || ends(".jpeg")) return "image/jpeg";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

std::string etag_of(std::string_view bytes) {
  return base::hex_encode(base::sha256(bytes).substr(0, 16));
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw io_error("open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw io_error("fsync directory", dir);
}

// mkdir -p that fsyncs every parent whose entries it changed, so new directories survive a crash.
void make_dirs(const std::string& root, const std::string& rel_dir) {
  std::string cur = root;
  std::size_t pos = 0;
  while (pos < rel_dir.size()) {
    auto slash = rel_dir.find('/', pos);
    std::string seg =
        rel_dir.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    std::string next = cur + "/" + seg;
    if (::mkdir(next.c_str(), 0755) == 0) {
      fsync_dir(cur);
    } else if (errno != EEXIST) {
      throw io_error("mkdir", next);
    }
    cur = next;
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
}

bool read_all(int fd, std::string& out, int64_t offset, std::size_t len) {
  out.resize(len);
  std::size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, out.data() + done, len - done, offset + int64_t(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += std::size_t(n);
  }
  return true;
}

domain::ObjectInfo info_from(int fd, const std::string& key, const struct stat& st,
                             std::string_view content) {
  domain::ObjectInfo info;
  info.size = st.st_size;
  info.last_modified_ms = int64_t(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  info.content_type = content_type_for(key);
  char buf[65];
  ssize_t n = ::fgetxattr(fd, kEtagAttr, buf, sizeof buf - 1);
  if (n == 32) {
    info.etag.assign(buf, std::size_t(n));
  } else if (content.size() == std::size_t(st.st_size)) {
    info.etag = etag_of(content);
  } else {
    // No stored ETag (an object written by hand or by an older build): hashed in blocks, so a
    // large file costs no more memory than a small one.
    base::Sha256 h;
    std::string block;
    bool ok = true;
    for (int64_t at = 0; ok && at < st.st_size; at += int64_t(block.size())) {
      ok = read_all(fd, block, at, std::size_t(std::min<int64_t>(st.st_size - at, 1 << 20)));
      if (ok) h.update(block);
    }
    if (ok) info.etag = base::hex_encode(h.finish().substr(0, 16));
  }
  return info;
}

class FileReader final : public domain::ObjectReader {
 public:
  FileReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileReader() override { ::close(fd_); }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  int file_descriptor() const override { return fd_; }
  std::size_t read(int64_t offset, char* dst, std::size_t max) override {
    for (;;) {
      ssize_t n = ::pread(fd_, dst, max, offset);
      if (n >= 0) return std::size_t(n);
      if (errno != EINTR) throw io_error("read", path_);
    }
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

FsObjectStore::FsObjectStore(std::string root_dir) : root_(std::move(root_dir)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  std::filesystem::create_directories(root_);
}

bool FsObjectStore::valid_key(std::string_view key) {
  if (!domain::valid_object_key(key)) return false;
  // The store's own temporary files are never addressable.
  for (std::size_t start = 0;;) {
    auto slash = key.find('/', start);
    if (key.substr(start).rfind(kTempPrefix, 0) == 0) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

void FsObjectStore::put(const std::string& key, std::string_view bytes, const std::string&) {
  if (!valid_key(key)) throw Error(ErrorCode::BadRequest, "invalid object key");
  auto slash = key.rfind('/');
  std::string dir = root_;
  if (slash != std::string::npos) {
    make_dirs(root_, key.substr(0, slash));
    dir = root_ + "/" + key.substr(0, slash);
  }
  static std::atomic<uint64_t> counter{0};
  std::string tmp = dir + "/" + kTempPrefix + std::to_string(::getpid()) + "-" +
                    std::to_string(counter.fetch_add(1)) + "-" +
                    base::hex_encode(base::random_bytes(4));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error("create", tmp);
  std::size_t done = 0;
  bool ok = true;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += std::size_t(n);
  }
  std::string etag = etag_of(bytes);
  if (ok)
    ::fsetxattr(fd, kEtagAttr, etag.data(), etag.size(), 0);  // optional: hashing is the fallback
  if (ok && ::fsync(fd) != 0) ok = false;
  int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path_of(key).c_str()) != 0) {
    if (ok) saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    throw io_error("write", path_of(key));
  }
  fsync_dir(dir);
}

std::optional<domain::ObjectInfo> FsObjectStore::head(const std::string& key) {
  if (!valid_key(key)) return std::nullopt;
  int fd = ::open(path_of(key).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw io_error("open", path_of(key));
  }
  struct stat st {};
  std::optional<domain::ObjectInfo> out;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) out = info_from(fd, key, st, {});
  ::close(fd);
  return out;
}

std::optional<domain::ObjectData> FsObjectStore::get(const std::string& key,
                                                     std::optional<domain::ByteRange> range) {
  if (!valid_key(key)) return std::nullopt;
  int fd = ::open(path_of(key).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw io_error("open", path_of(key));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::nullopt;
  }
  domain::ObjectData data;
  int64_t first = 0, len = st.st_size;
  if (range) {
    first = std::clamp<int64_t>(range->first, 0, st.st_size);
    len = std::clamp<int64_t>(range->last - first + 1, 0, st.st_size - first);
  }
  bool ok = read_all(fd, data.bytes, first, std::size_t(len));
  if (ok)
    data.info = info_from(fd, key, st, range ? std::string_view() : std::string_view(data.bytes));
  ::close(fd);
  if (!ok) throw io_error("read", path_of(key));
  return data;
}

std::optional<domain::OpenObject> FsObjectStore::open(const std::string& key) {
  if (!valid_key(key)) return std::nullopt;
  auto path = path_of(key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw io_error("open", path);
  }
  auto reader = std::make_shared<FileReader>(fd, path);  // owns fd from here
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return domain::OpenObject{info_from(fd, key, st, {}), std::move(reader)};
}

void FsObjectStore::remove(const std::string& key) {
  // A key this store refuses cannot name an object in it: already gone (so deletes of records
  // that point at such keys finish instead of failing for ever).
  if (!valid_key(key)) return;
  if (::unlink(path_of(key).c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return;
    throw io_error("unlink", path_of(key));
  }
  // No directory fsync: an unlink is final for every reader at once and survives a process
  // crash; after a power loss a resurrected file is an orphan that fsck removes.
}

void FsObjectStore::list(
    const std::string& prefix,
    const std::function<bool(const std::string&, const domain::ObjectInfo&)>& visit) {
  // Walk in key order; the prefix is a plain string prefix of keys (like S3). Only the
  // directory its last '/' names is walked: a delete lists one image's variants folder, and
  // walking the whole root cost ~270 ms of CPU per delete with 10,000 images stored.
  std::vector<std::string> keys;
  std::error_code ec;
  std::string start = root_;
  if (auto slash = prefix.rfind('/'); slash != std::string::npos) {
    auto dir = std::string_view(prefix).substr(0, slash);
    if (!valid_key(dir)) return;  // no key can lie under it
    start = root_ + "/" + std::string(dir);
  }
  for (auto it = std::filesystem::recursive_directory_iterator(start, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto rel = std::filesystem::relative(it->path(), root_, ec).generic_string();
    if (ec || !valid_key(rel) || rel.rfind(prefix, 0) != 0) continue;
    keys.push_back(std::move(rel));
  }
  std::sort(keys.begin(), keys.end());
  for (const auto& k : keys) {
    auto info = head(k);
    if (info && !visit(k, *info)) return;
  }
}

bool FsObjectStore::healthy() {
  struct stat st {};
  return ::stat(root_.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
         ::access(root_.c_str(), W_OK) == 0;
}

}  // namespace isvc::storage
