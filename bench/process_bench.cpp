// The processing step alone (validate, decode, resize, encode both WebPs: VipsProcessor::process,
// as an upload runs it) on the given files, for the comparison with sharp in
// bench/sharp-compare.mjs. Prints one JSON object per file: wall-time percentiles and CPU time
// per operation.
//   isvc_process_bench --runs 20 --effort 2 [--out DIR] photo.jpg …
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "imaging/processing_limits.h"
#include "imaging/vips_processor.h"

namespace {
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto i =
      std::size_t(std::max(0.0, std::min(double(v.size() - 1), p / 100.0 * double(v.size()) - 1)));
  return v[i];
}
}  // namespace

int main(int argc, char** argv) {
  int runs = 20, effort = 2;
  std::string out_dir;  // --out DIR: also write each file's main WebP there (<name>.webp)
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc)
      runs = std::stoi(argv[++i]);
    else if (a == "--effort" && i + 1 < argc)
      effort = std::stoi(argv[++i]);
    else if (a == "--out" && i + 1 < argc)
      out_dir = argv[++i];
    else
      files.push_back(a);
  }
  isvc::imaging::init_vips(int(std::max(1u, std::thread::hardware_concurrency())));
  isvc::imaging::ProcessingLimits limits;
  limits.webp_effort = effort;
  isvc::imaging::VipsProcessor processor(limits);
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    auto first = processor.process(bytes);  // warm-up
    if (!out_dir.empty()) {
      std::string name = f.substr(f.find_last_of('/') + 1);
      std::ofstream(out_dir + "/" + name + ".webp", std::ios::binary) << first.main_webp;
    }
    std::vector<double> ms;
    double cpu0 = cpu_seconds();
    for (int r = 0; r < runs; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      auto out = processor.process(bytes);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    double cpu_ms = (cpu_seconds() - cpu0) * 1000 / runs;
    double mean = 0;
    for (double v : ms) mean += v / double(ms.size());
    std::printf(
        "{\"file\":\"%s\",\"bytes\":%zu,\"effort\":%d,\"runs\":%d,\"p50\":%.1f,\"p95\":%.1f,"
        "\"mean\":%.1f,\"cpuMs\":%.1f}\n",
        f.c_str(), bytes.size(), effort, runs, percentile(ms, 50), percentile(ms, 95), mean,
        cpu_ms);
  }
  return 0;
}
