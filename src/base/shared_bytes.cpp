#include "base/shared_bytes.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace isvc::base {

std::atomic<int> SharedBytes::live_{0};

namespace {

bool write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += std::size_t(n);
  }
  return true;
}

}  // namespace

std::shared_ptr<const SharedBytes> SharedBytes::make(std::string bytes, bool prefer_memfd) {
  std::shared_ptr<SharedBytes> out(new SharedBytes());
  out->size_ = bytes.size();
  if (prefer_memfd && !bytes.empty() && live_.fetch_add(1) < kMaxMemfds) {
    int fd = ::memfd_create("isvc-file-cache", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    void* map = MAP_FAILED;
    if (fd >= 0 && write_all(fd, bytes) &&
        // Sealed: nobody (not even a bug of ours) can change bytes the kernel may be sending.
        ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0)
      map = ::mmap(nullptr, bytes.size(), PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
      out->fd_ = fd;
      out->map_ = map;
      out->data_ = static_cast<const char*>(map);
      return out;
    }
    if (fd >= 0) ::close(fd);
    live_.fetch_sub(1);
  } else if (prefer_memfd && !bytes.empty()) {
    live_.fetch_sub(1);
  }
  out->heap_ = std::move(bytes);
  out->data_ = out->heap_.data();
  return out;
}

SharedBytes::~SharedBytes() {
  if (fd_ < 0) return;
  ::munmap(map_, size_);
  ::close(fd_);
  live_.fetch_sub(1);
}

}  // namespace isvc::base
