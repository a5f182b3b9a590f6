#include "domain/webhook_events.h"

#include <algorithm>
#include <boost/json.hpp>

#include "base/crypto.h"
#include "base/encoding.h"
#include "base/time_format.h"

namespace isvc::domain {

std::optional<std::string> parse_webhook_secret(std::string_view text) {
  constexpr std::string_view prefix = "whsec_";
  if (text.substr(0, prefix.size()) != prefix) return std::nullopt;
  auto key = base::base64_decode(text.substr(prefix.size()));
  if (!key || key->empty()) return std::nullopt;
  return key;
}

std::string webhook_target_key(std::string_view url) {
  return base::hex_encode(base::sha256(url)).substr(0, 16);
}

std::string webhook_signature(std::string_view key, std::string_view id, int64_t timestamp_s,
                              std::string_view body) {
  std::string content;
  content.reserve(id.size() + body.size() + 24);
  content.append(id).append(".").append(std::to_string(timestamp_s)).append(".").append(body);
  return "v1," + base::base64_encode(base::hmac_sha256(key, content));
}

int64_t webhook_retry_delay_ms(int failures, int64_t initial_ms, int64_t max_ms,
                               double unit_random) {
  int64_t base = initial_ms;
  for (int i = 0; i < failures && base < max_ms; ++i) base *= 2;
  base = std::min(base, max_ms);
  double r = std::clamp(unit_random, 0.0, 1.0);
  return base / 2 + int64_t(double(base - base / 2) * r);
}

Events WebhookEvents::make(const char* type, const std::string& order_key, int64_t seq,
                           const std::string& data_json) const {
  Events out;
  if (targets_.empty()) return out;
  int64_t now = clock_.now_ms();
  OutboxEvent e;
  e.id = "msg_" + ids_.next();
  e.type = type;
  e.order_key = order_key;
  e.seq = seq;
  e.created_ms = now;
  // Written by hand so that `data` is the rendered object byte for byte.
  e.body = "{\"type\":" + boost::json::serialize(boost::json::string(type)) + ",\"timestamp\":\"" +
           base::format_iso8601_ms(now) + "\",\"data\":" + data_json + "}";
  for (const auto& t : targets_) {
    e.target = t;
    out.push_back(e);
  }
  return out;
}

Events WebhookEvents::image_created(const ImageRecord& rec) const {
  if (targets_.empty()) return {};
  return make("image.created", rec.id, rec.version, render_(rec));
}

Events WebhookEvents::image_updated(const ImageRecord& rec) const {
  if (targets_.empty()) return {};
  return make("image.updated", rec.id, rec.version, render_(rec));
}

Events WebhookEvents::image_deleted(const ImageRecord& rec) const {
  if (targets_.empty()) return {};
  boost::json::object data{{"id", rec.id}, {"userId", rec.user_id}};
  // After every version of the image: the delete is its last event.
  return make("image.deleted", rec.id, rec.version + 1, boost::json::serialize(data));
}

Events WebhookEvents::user_erased(const std::string& user_id) const {
  if (targets_.empty()) return {};
  boost::json::object data{{"userId", user_id}};
  return make("user.erased", "user:" + user_id, clock_.now_ms(), boost::json::serialize(data));
}

}  // namespace isvc::domain
