// Responsive variants (issue 13): each image offers its main image again at configured widths in
// WebP and AVIF, as immutable objects under images/{user}/variants/{id}/. They are made on the
// first request for them (one encode however many requests arrive at once), from the main image
// (the original is not kept), on the bounded processing pool, and stored in the object store so
// every instance and a CDN pointed at the bucket see them. Only configured widths no wider than
// the main image and configured formats exist: any other variant key is 404, so no URL can make
// the service do unbounded work.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/bounded_pool.h"
#include "domain/model/image_record.h"
#include "domain/ports/image_processor.h"
#include "domain/ports/image_repository.h"
#include "domain/ports/object_store.h"
#include "obs/metrics.h"

namespace isvc::domain {

const char* extension(VariantFormat f);   // "avif", "webp"
const char* media_type(VariantFormat f);  // "image/avif", "image/webp"
std::optional<VariantFormat> variant_format(std::string_view extension);

struct VariantSettings {
  std::vector<int> widths = {320, 640, 1024, 1280, 1600, 2048};  // VARIANT_WIDTHS, ascending
  std::vector<VariantFormat> formats = {VariantFormat::Avif, VariantFormat::Webp};
  int main_max = 2048;  // the main image's box (the widest a variant can be)
};

struct Variant {
  int width = 0, height = 0;
  VariantFormat format = VariantFormat::Webp;
  std::string key;
};

// The main image's size: the upright original fitted into main_max x main_max, never enlarged;
// {0, 0} when the record does not know its dimensions (some legacy rows).
std::pair<int, int> main_size(const ImageRecord& rec, int main_max);

// The variants an image offers, by format then width: every configured width no wider than its
// main image, each with the height of the original's aspect ratio; none when its dimensions are
// unknown.
std::vector<Variant> variants_of(const ImageRecord& rec, const VariantSettings& s);

// Removes every object of the image: the variants that exist (one listing of their prefix), the
// main image and the thumbnail, in one batch (S3: one DeleteObjects). Returns the keys (for the
// CDN purge). Throws what the object store throws; a retry deletes what is left.
std::vector<std::string> remove_image_objects(ObjectStore& objects, const ImageRecord& rec);

class Variants {
 public:
  Variants(ImageRepository& images, ObjectStore& objects, ImageProcessor& processor,
           base::BoundedPool& cpu, obs::ServiceMetrics& metrics, VariantSettings settings)
      : images_(images),
        objects_(objects),
        processor_(processor),
        cpu_(cpu),
        metrics_(metrics),
        s_(std::move(settings)) {}

  // The object at `key` when it is a variant that exists: read from the object store, or made
  // now (and stored) when this is its first request; concurrent first requests share one encode.
  // nullopt when `key` is not such a variant (the caller answers 404). Throws Unavailable with a
  // retry hint when the processing pool is full.
  std::optional<ObjectData> fetch(const std::string& key);

  const VariantSettings& settings() const { return s_; }

 private:
  struct Flight {
    bool done = false;
    std::optional<ObjectData> result;
    std::exception_ptr error;
  };
  std::optional<ObjectData> generate(const ImageRecord& rec, const Variant& v);

  ImageRepository& images_;
  ObjectStore& objects_;
  ImageProcessor& processor_;
  base::BoundedPool& cpu_;
  obs::ServiceMetrics& metrics_;
  VariantSettings s_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Flight>> in_flight_;  // by key
};

}  // namespace isvc::domain
