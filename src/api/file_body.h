// Response bodies of GET /files as http::BodySource: the hot cache's shared bytes (written from
// where they are), and an object store's reader (a file descriptor, memory, or a remote
// stream read in pieces). Neither copies the object per view.
#pragma once

#include <memory>
#include <string>

#include "domain/ports/object_store.h"
#include "http/message.h"

namespace isvc::api {

class CachedBody final : public http::BodySource {
 public:
  explicit CachedBody(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}
  std::optional<std::string_view> view() const override { return std::string_view(*bytes_); }
  std::size_t read(uint64_t offset, char* dst, std::size_t max) override;

 private:
  std::shared_ptr<const std::string> bytes_;
};

class ReaderBody final : public http::BodySource {
 public:
  explicit ReaderBody(std::shared_ptr<domain::ObjectReader> reader) : reader_(std::move(reader)) {}
  int file_descriptor() const override { return reader_->file_descriptor(); }
  std::optional<std::string_view> view() const override {
    if (auto* b = reader_->bytes()) return std::string_view(*b);
    return std::nullopt;
  }
  bool blocking() const override { return reader_->remote(); }
  std::size_t read(uint64_t offset, char* dst, std::size_t max) override {
    return reader_->read(static_cast<int64_t>(offset), dst, max);
  }

 private:
  std::shared_ptr<domain::ObjectReader> reader_;
};

// The whole object from its reader (to fill the hot cache); throws StorageFailed when the
// reader ends before `size` bytes.
std::string read_whole(domain::ObjectReader& reader, int64_t size);

}  // namespace isvc::api
