// What webhooks say: the event bodies (image.created, image.updated, image.deleted, user.erased)
// built beside the change that causes them, and the Standard Webhooks signature. No I/O: the
// events go into the outbox with the write (ports/event_outbox.h), WebhookDelivery sends them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/model/image_record.h"
#include "domain/ports/clock.h"
#include "domain/ports/event_outbox.h"
#include "domain/ports/ids.h"

namespace isvc::domain {

// "whsec_<base64>" → the key bytes; nullopt when the form is wrong or the key is empty.
std::optional<std::string> parse_webhook_secret(std::string_view text);

// The short stable name of a target in the outbox (hex of the URL's SHA-256, 16 digits).
std::string webhook_target_key(std::string_view url);

// "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>": the webhook-signature header.
std::string webhook_signature(std::string_view key, std::string_view id, int64_t timestamp_s,
                              std::string_view body);

// Delay before attempt `failures` + 1: initial · 2^failures, capped at max_ms, with equal jitter
// (half fixed, half scaled by unit_random in [0, 1)), so instances that failed together spread.
int64_t webhook_retry_delay_ms(int failures, int64_t initial_ms, int64_t max_ms,
                               double unit_random);

class WebhookEvents {
 public:
  // render: the image object as GET /images/{id} shows it (JSON text). No targets: every call
  // returns no events and renders nothing.
  WebhookEvents(std::vector<std::string> target_keys, IdGenerator& ids, const Clock& clock,
                std::function<std::string(const ImageRecord&)> render)
      : targets_(std::move(target_keys)), ids_(ids), clock_(clock), render_(std::move(render)) {}

  bool enabled() const { return !targets_.empty(); }
  Events image_created(const ImageRecord& rec) const;
  Events image_updated(const ImageRecord& rec) const;
  // `rec` as it was before the delete: data holds its id and userId.
  Events image_deleted(const ImageRecord& rec) const;
  Events user_erased(const std::string& user_id) const;

 private:
  Events make(const char* type, const std::string& order_key, int64_t seq,
              const std::string& data_json) const;

  std::vector<std::string> targets_;
  IdGenerator& ids_;
  const Clock& clock_;
  std::function<std::string(const ImageRecord&)> render_;
};

}  // namespace isvc::domain
