// Idempotency keys (SPEC §6, §12). A client's `Idempotency-Key` on an upload (or an upload's
// complete call) makes the request run at most once per user and key within 24 h: a repeat of
// the same request gets the first result (200, same image), a different request under the key a
// 409 IDEMPOTENCY_KEY_REUSED, and a repeat while the first is still running a 409 with
// Retry-After. The claim is one conditional write in the metadata store, so concurrent duplicates
// (on any instance) never create two images. A claim whose request died (crash) lapses after
// its lease, so a retry can run it again.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "domain/model/idempotency_record.h"
#include "domain/model/image_record.h"
#include "domain/ports/clock.h"
#include "domain/ports/idempotency_repository.h"
#include "domain/ports/image_repository.h"

namespace isvc::domain {

struct IdempotencySettings {
  int64_t ttl_ms = 24 * 3600 * 1000;
  int64_t lease_ms = 5 * 60 * 1000;  // longer than any upload may take
};

// Throws Error(ValidationFailed, field Idempotency-Key) unless 1–255 visible ASCII characters.
void check_idempotency_key(std::string_view key);
// Hex SHA-256 of (user, key): fixed length, and one user's key never meets another's.
std::string scoped_idempotency_key(const std::string& user_id, std::string_view key);

struct IdempotentResult {
  ImageRecord image;
  bool replayed = false;  // true: the first request's result, nothing was done now
};

// Runs `work` unless the key already holds a request. `load` fetches the image a replay returns
// (nullopt when it has been deleted since: 404).
IdempotentResult run_idempotent(
    IdempotencyRepository& store, const Clock& clock, const IdempotencySettings& s,
    const std::string& scoped_key, const std::string& fingerprint,
    const std::function<ImageRecord()>& work,
    const std::function<std::optional<ImageRecord>(const std::string&)>& load);

// What an image-creating request answered: the image, whether this request created it, and
// whether it was the replay of an earlier request under the same key.
struct IdempotentOutcome {
  ImageRecord image;
  bool created = true;
  bool replayed = false;
};

// The use case around uploads and upload completes (SPEC §6): without a key the work just runs;
// with one it runs at most once per user and key, a repeat answering the first image.
class IdempotentRequests {
 public:
  // `images` gives a replay its image (an image deleted since is a 404).
  IdempotentRequests(IdempotencyRepository& store, ImageRepository& images, const Clock& clock,
                     IdempotencySettings s = {})
      : store_(store), images_(images), clock_(clock), s_(s) {}

  // `work` returns the image and whether it created it (false: found from an earlier call).
  IdempotentOutcome run(const std::string& user_id, std::optional<std::string_view> key,
                        const std::string& fingerprint,
                        const std::function<std::pair<ImageRecord, bool>()>& work);

 private:
  IdempotencyRepository& store_;
  ImageRepository& images_;
  const Clock& clock_;
  IdempotencySettings s_;
};

}  // namespace isvc::domain
