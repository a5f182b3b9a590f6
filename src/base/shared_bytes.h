// Immutable bytes shared by every response that sends them (the hot-file cache). They live in a
// sealed memfd when one can be had, so that sendfile(2) hands their pages to the socket without
// copying them; otherwise (the memfd budget is spent, or the system refuses) on the heap.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace isvc::base {

class SharedBytes {
 public:
  // At most this many memfds are alive at once (each holds a descriptor for as long as its bytes
  // are cached); beyond it, bytes go to the heap.
  static constexpr int kMaxMemfds = 4096;

  // Takes the bytes; `prefer_memfd` false keeps them on the heap.
  static std::shared_ptr<const SharedBytes> make(std::string bytes, bool prefer_memfd = true);

  ~SharedBytes();
  SharedBytes(const SharedBytes&) = delete;
  SharedBytes& operator=(const SharedBytes&) = delete;

  std::string_view view() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  // The sealed memfd holding the bytes, or -1 when they are on the heap.
  int fd() const { return fd_; }

  static int live_memfds() { return live_.load(); }

 private:
  SharedBytes() = default;
  std::string heap_;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  int fd_ = -1;
  void* map_ = nullptr;
  static std::atomic<int> live_;
};

}  // namespace isvc::base
