#include "domain/idempotency.h"

#include "base/crypto.h"
#include "base/encoding.h"
#include "domain/model/error.h"
#include "domain/ports/idempotency_repository.h"

#include <tuple>

namespace isvc::domain {

void check_idempotency_key(std::string_view key) {
  bool ok = !key.empty() && key.size() <= 255;
  for (char c : key) ok = ok && c > 0x20 && c < 0x7f;
  if (!ok)
    throw Error::validation("Idempotency-Key",
                            "Idempotency-Key must be 1 to 255 visible ASCII characters");
}

std::string scoped_idempotency_key(const std::string& user_id, std::string_view key) {
  std::string material = user_id;
  material += '\0';
  material.append(key);
  return base::hex_encode(base::sha256(material));
}

IdempotentResult run_idempotent(
    IdempotencyRepository& store, const Clock& clock, const IdempotencySettings& s,
    const std::string& scoped_key, const std::string& fingerprint,
    const std::function<ImageRecord()>& work,
    const std::function<std::optional<ImageRecord>(const std::string&)>& load) {
  int64_t now = clock.now_ms();
  IdempotencyRecord claim{scoped_key, fingerprint, std::nullopt, now + s.lease_ms, now + s.ttl_ms};
  if (auto held = store.claim_idempotency(claim, now)) {
    if (held->fingerprint != fingerprint)
      throw Error(ErrorCode::IdempotencyKeyReused,
                  "this Idempotency-Key was used for a different request",
                  {{"field", "Idempotency-Key"}});
    if (!held->image_id) {
      Error e(ErrorCode::IdempotencyKeyReused,
              "a request with this Idempotency-Key is still in progress; retry shortly",
              {{"field", "Idempotency-Key"}, {"reason", "in_progress"}});
      e.retry_after_s = 1;
      throw e;
    }
    auto image = load(*held->image_id);
    if (!image)
      throw Error(ErrorCode::ImageNotFound,
                  "the image this Idempotency-Key created has been deleted",
                  {{"id", *held->image_id}});
    return {*image, true};
  }
  ImageRecord image;
  try {
    image = work();
  } catch (...) {
    try {
      store.release_idempotency(scoped_key);  // a retry may run it again
    } catch (...) {
    }
    throw;
  }
  // The image exists and is acknowledged even if recording it fails: the claim then lapses with
  // its lease and a retry after that uploads again — the one case where a key does not prevent
  // a second image (documented in docs/security.md).
  try {
    store.complete_idempotency(scoped_key, image.id);
  } catch (...) {
  }
  return {image, false};
}

IdempotentOutcome IdempotentRequests::run(
    const std::string& user_id, std::optional<std::string_view> key, const std::string& fingerprint,
    const std::function<std::pair<ImageRecord, bool>()>& work) {
  IdempotentOutcome out;
  if (!key) {
    std::tie(out.image, out.created) = work();
    return out;
  }
  check_idempotency_key(*key);
  auto r = run_idempotent(
      store_, clock_, s_, scoped_idempotency_key(user_id, *key), fingerprint,
      [&] {
        auto [image, fresh] = work();
        out.created = fresh;
        return image;
      },
      [this](const std::string& id) -> std::optional<ImageRecord> {
        auto rec = images_.get(id);
        if (rec && rec->state == ImageState::Active) return rec;
        return std::nullopt;
      });
  out.image = std::move(r.image);
  if (r.replayed) {
    out.created = false;
    out.replayed = true;
  }
  return out;
}

}  // namespace isvc::domain
