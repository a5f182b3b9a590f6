// The verified-token cache of TokenVerifier: recent successes by whole token, bounded in bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/token_verifier.h"

namespace isvc::auth {

// Tokens verified lately, so that a client's next requests skip the parsing and the signature
// check (most of a metadata read's CPU besides the store): keyed by the whole token, good until
// the expiry verify() allows (exp + leeway), at most kCacheTtlS, and only under the keys that
// verified it (a JWKS change makes every entry miss). Only successes are kept. Bounded by bytes:
// when full it is emptied (a burst of distinct valid tokens costs the verifications it saves).
class VerifiedTokens {
 public:
  static constexpr int64_t kCacheTtlS = 300;
  static constexpr std::size_t kMaxBytes = 4 << 20;

  std::optional<Principal> find(std::string_view token, int64_t now_s, uint64_t keys) const {
    std::lock_guard l(mu_);
    auto it = map_.find(token);  // heterogeneous: no string built per lookup
    if (it == map_.end() || now_s > it->second.until_s || it->second.keys != keys)
      return std::nullopt;
    return it->second.principal;
  }
  std::size_t bytes() const {
    std::lock_guard l(mu_);
    return bytes_;
  }
  std::size_t size() const {
    std::lock_guard l(mu_);
    return map_.size();
  }
  void put(std::string_view token, const Principal& p, int64_t until_s, uint64_t keys) {
    std::size_t cost = token.size() + p.subject.size() + 96;
    std::lock_guard l(mu_);
    if (bytes_ + cost > kMaxBytes) {
      map_.clear();
      bytes_ = 0;
    }
    auto [it, fresh] = map_.insert_or_assign(std::string(token), Entry{p, until_s, keys});
    if (fresh) bytes_ += cost;
  }

 private:
  struct Entry {
    Principal principal;
    int64_t until_s;
    uint64_t keys;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> map_;
  std::size_t bytes_ = 0;
};

}  // namespace isvc::auth
