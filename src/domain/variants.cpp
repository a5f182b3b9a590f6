#include "domain/variants.h"

#include <algorithm>
#include <cmath>

#include "domain/model/error.h"
#include "domain/model/object_keys.h"
#include "domain/ulid.h"

namespace isvc::domain {

const char* extension(VariantFormat f) {
  return f == VariantFormat::Avif ? "avif" : "webp";
}

const char* media_type(VariantFormat f) {
  return f == VariantFormat::Avif ? "image/avif" : "image/webp";
}

std::optional<VariantFormat> variant_format(std::string_view ext) {
  if (ext == "avif") return VariantFormat::Avif;
  if (ext == "webp") return VariantFormat::Webp;
  return std::nullopt;
}

std::pair<int, int> main_size(const ImageRecord& rec, int main_max) {
  int w = rec.width, h = rec.height;
  if (w <= 0 || h <= 0) return {0, 0};
  if (w <= main_max && h <= main_max) return {w, h};
  // The long side becomes main_max; the other is rounded as libvips rounds a shrink.
  if (w >= h) return {main_max, std::max(1, int(std::lround(double(h) * main_max / w)))};
  return {std::max(1, int(std::lround(double(w) * main_max / h))), main_max};
}

std::vector<Variant> variants_of(const ImageRecord& rec, const VariantSettings& s) {
  std::vector<Variant> out;
  auto [mw, mh] = main_size(rec, s.main_max);
  if (mw == 0) return out;
  for (auto f : s.formats)
    for (int w : s.widths) {
      if (w > mw) continue;
      // From the original's aspect ratio (not the main image's rounded height).
      int h = std::max(1, int(std::lround(double(rec.height) * w / rec.width)));
      out.push_back({w, h, f, variant_object_key(rec.user_id, rec.id, w, extension(f))});
    }
  return out;
}

std::vector<std::string> remove_image_objects(ObjectStore& objects, const ImageRecord& rec) {
  std::vector<std::string> keys;
  if (rec.variant_keys) {  // the store keeps them: no listing (docs/distributed.md, Deletes)
    keys = *rec.variant_keys;
  } else {
    objects.list(variant_prefix(rec.user_id, rec.id), [&](const std::string& k, const ObjectInfo&) {
      keys.push_back(k);
      return true;
    });
  }
  keys.push_back(rec.s3_key);
  if (rec.thumbnail_key) keys.push_back(*rec.thumbnail_key);
  objects.remove_all(keys);
  return keys;
}

std::optional<ObjectData> Variants::fetch(const std::string& key) {
  auto vk = parse_variant_key(key);
  if (!vk || !is_image_id(vk->image_id)) return std::nullopt;
  auto format = variant_format(vk->extension);
  if (!format) return std::nullopt;
  if (std::find(s_.formats.begin(), s_.formats.end(), *format) == s_.formats.end() ||
      std::find(s_.widths.begin(), s_.widths.end(), vk->width) == s_.widths.end())
    return std::nullopt;
  auto rec = images_.get(vk->image_id);
  if (!rec || rec->state != ImageState::Active ||
      encode_user_id_for_key(rec->user_id) != vk->encoded_user)
    return std::nullopt;
  auto all = variants_of(*rec, s_);
  auto it = std::find_if(all.begin(), all.end(), [&](const Variant& v) { return v.key == key; });
  if (it == all.end()) return std::nullopt;  // wider than the main image

  // One encode per key in this process: the first request makes it, the others wait for it.
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    std::lock_guard lock(mu_);
    auto& slot = in_flight_[key];
    if (!slot) {
      slot = std::make_shared<Flight>();
      leader = true;
    }
    flight = slot;
  }
  if (!leader) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return flight->done; });
    metrics_.variant_requests.inc({extension(*format), "shared"});
    if (flight->error) std::rethrow_exception(flight->error);
    return flight->result;
  }
  std::optional<ObjectData> result;
  std::exception_ptr error;
  try {
    result = generate(*rec, *it);
  } catch (...) {
    error = std::current_exception();
  }
  {
    std::lock_guard lock(mu_);
    flight->result = result;
    flight->error = error;
    flight->done = true;
    in_flight_.erase(key);
  }
  cv_.notify_all();
  if (error) std::rethrow_exception(error);
  return result;
}

std::optional<ObjectData> Variants::generate(const ImageRecord& rec, const Variant& v) {
  const char* ext = extension(v.format);
  // Made meanwhile by another instance (or a request that just finished here)?
  if (auto stored = objects_.get(v.key)) {
    metrics_.variant_requests.inc({ext, "stored"});
    return stored;
  }
  auto source = objects_.get(rec.s3_key);
  if (!source) return std::nullopt;  // the main image is missing: fsck reports the record
  std::string bytes;
  try {
    bytes = cpu_.run(
        [&] { return processor_.render_variant(source->bytes, v.width, v.height, v.format); });
  } catch (const base::PoolFull&) {
    Error e(ErrorCode::Unavailable, "image processing is at capacity; retry shortly");
    e.retry_after_s = 2;
    throw e;
  }
  // Named in the record before it exists, so that a delete that marks the record after this
  // removes it without listing; a record no longer active gets no new variant.
  if (!images_.note_variant(rec.id, v.key)) return std::nullopt;
  objects_.put(v.key, bytes, media_type(v.format));
  metrics_.variant_generations.inc({ext});
  metrics_.variant_requests.inc({ext, "generated"});
  // Deleted while it was being made: the variant must not outlive its image (a delete that
  // listed the prefix before this put would miss it; fsck removes any that still slip through).
  if (auto now = images_.get(rec.id); !now || now->state != ImageState::Active) {
    objects_.remove(v.key);
    return std::nullopt;
  }
  return objects_.get(v.key);  // as every later request will see it (ETag, modification time)
}

}  // namespace isvc::domain
