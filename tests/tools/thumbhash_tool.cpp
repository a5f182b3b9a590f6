// Test helper: for each image file named on the command line, runs the upload's processing (or,
// with --stored, the backfill's decode of a stored image) and prints one JSON line with the pixels
// the placeholders came from (base64 RGBA) and the placeholders themselves, so that
// tests/integration/placeholders.test.mjs can compare our ThumbHash with npm thumbhash's for the
// very same pixels. With --time RUNS it also measures, per file, the median of RUNS process() calls
// and of the work placeholders add to one (the shrink of the in-memory main image and the hash),
// or with --stored the backfill's whole decode and hash: the numbers in docs/decisions.md.
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "base/encoding.h"
#include "domain/model/error.h"
#include "imaging/vips_deadline.h"
#include "imaging/vips_processor.h"

namespace {

template <class F>
double median_ms(int runs, F&& f) {
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace isvc;
  imaging::init_vips(1);
  imaging::VipsProcessor processor{imaging::ProcessingLimits{}};
  imaging::SmallRgba seen;
  processor.observe_placeholder_pixels([&](const imaging::SmallRgba& px) { seen = px; });
  bool stored = false;
  int failures = 0, time_runs = 0;
  for (int i = 1; i < argc; ++i) {
    std::string path = argv[i];
    if (path == "--stored") {
      stored = true;
      continue;
    }
    if (path == "--time" && i + 1 < argc) {
      time_runs = std::max(1, std::stoi(argv[++i]));
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    boost::json::object o{{"file", path}};
    try {
      seen = {};
      domain::Placeholders p =
          stored ? processor.placeholders(bytes) : processor.process(bytes).placeholders;
      o["width"] = seen.width;
      o["height"] = seen.height;
      o["rgba"] = base::base64_encode(seen.rgba);
      o["thumbhash"] = base::base64_encode(p.thumbhash);
      if (p.dominant_color) o["dominantColor"] = *p.dominant_color;
      if (time_runs > 0 && stored)
        o["storedMs"] = median_ms(time_runs, [&] { processor.placeholders(bytes); });
      if (time_runs > 0 && !stored) {
        o["processMs"] = median_ms(time_runs, [&] { processor.process(bytes); });
        // The main image as process() holds it when the placeholders are computed: in memory.
        std::string main_webp = processor.process(bytes).main_webp;
        auto main =
            vips::VImage::new_from_buffer(main_webp.data(), main_webp.size(), "").copy_memory();
        imaging::VipsDeadline deadline(0);
        o["placeholderMs"] = median_ms(time_runs, [&] {
          imaging::placeholders_of(imaging::placeholder_pixels(main, deadline));
        });
        o["mainWidth"] = main.width();
        o["mainHeight"] = main.height();
      }
    } catch (const domain::Error& e) {
      o["error"] = std::string(domain::code_name(e.code())) + ": " + e.what();
      ++failures;
    }
    std::cout << boost::json::serialize(o) << "\n";
  }
  return failures ? 1 : 0;
}
