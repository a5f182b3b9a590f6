// Load generator for bench/run.sh: N keep-alive HTTP/1.1 clients (one thread each) on loopback,
// per-request latencies → P50/P95/P99 and throughput, printed as one JSON line.
//
//   isvc_loadgen --base 127.0.0.1:PORT --token T --scenario S [--concurrency C] [--requests N]
//                [--file F] [--ids FILE]
// Scenarios: upload (F, N; the new ids to --ids when given), seed (N small generated PNG
// uploads; ids to --ids), get, list, update, delete (ids from --ids; update/delete give each
// client its own slice of ids), files (GETs of the URL paths listed in --ids, round robin: file
// delivery, against any server).
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <vips/vips8>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string token;
  std::string scenario;
  std::string file;
  std::string ids_path;
  int concurrency = 1;
  int requests = 100;
};

class Client {
 public:
  Client(const Options& o) : o_(o), stream_(ioc_) { connect(); }

  http::response<http::string_body> send(http::verb method, const std::string& target,
                                         std::string body = {}, const std::string& type = {}) {
    for (int attempt = 0;; ++attempt) {
      try {
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, o_.host);
        req.set(http::field::authorization, "Bearer " + o_.token);
        if (!type.empty()) req.set(http::field::content_type, type);
        req.body() = body;
        req.prepare_payload();
        http::write(stream_, req);
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        http::read(stream_, buffer_, parser);
        auto res = parser.release();
        if (!res.keep_alive()) connect();
        return res;
      } catch (const std::exception&) {
        if (attempt > 0) throw;
        connect();
      }
    }
  }

 private:
  void connect() {
    beast::error_code ec;
    stream_.socket().close(ec);
    tcp::resolver r(ioc_);
    stream_.connect(r.resolve(o_.host, o_.port));
    stream_.socket().set_option(tcp::no_delay(true));
    buffer_.clear();
  }
  const Options& o_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

std::string multipart(const std::string& file, const std::string& name, std::string& type) {
  const std::string b = "isvcbenchboundary7MA4YWxkTrZu0gW";
  type = "multipart/form-data; boundary=" + b;
  return "--" + b + "\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nbench\r\n--" + b +
         "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name +
         "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + file + "\r\n--" + b + "--\r\n";
}

std::string small_png(int seed) {
  vips::VImage img = vips::VImage::black(120, 120, vips::VImage::option()->set("bands", 3)) +
                     std::vector<double>{double(seed % 256), double((seed / 256) % 256), 90};
  img = img.cast(VIPS_FORMAT_UCHAR);
  void* buf = nullptr;
  size_t len = 0;
  img.write_to_buffer(".png", &buf, &len);
  std::string out(static_cast<char*>(buf), len);
  g_free(buf);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::vector<std::string> read_ids(const std::string& path) {
  std::vector<std::string> ids;
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) ids.push_back(l);
  return ids;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto rank = std::size_t(std::ceil(p / 100.0 * double(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--base") {
      auto colon = v.rfind(':');
      o.host = v.substr(0, colon);
      o.port = v.substr(colon + 1);
    } else if (k == "--token")
      o.token = v;
    else if (k == "--scenario")
      o.scenario = v;
    else if (k == "--file")
      o.file = v;
    else if (k == "--ids")
      o.ids_path = v;
    else if (k == "--concurrency")
      o.concurrency = std::stoi(v);
    else if (k == "--requests")
      o.requests = std::stoi(v);
  }
  if (VIPS_INIT(argv[0])) return 2;

  std::string upload_body, upload_type;
  if (o.scenario == "upload") upload_body = multipart(read_file(o.file), "photo.jpg", upload_type);
  std::vector<std::string> ids;
  if (o.scenario != "upload" && o.scenario != "seed") ids = read_ids(o.ids_path);
  if (o.scenario != "upload" && o.scenario != "seed" && ids.empty()) {
    std::cerr << "no ids in " << o.ids_path << "\n";
    return 2;
  }

  std::mutex mu;
  std::vector<double> lat;
  std::vector<std::string> created;
  std::atomic<int> next{0}, errors{0};
  std::atomic<int> non2xx_status{0};
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < o.concurrency; ++c) {
    threads.emplace_back([&, c] {
      Client client(o);
      std::mt19937 rng(unsigned(c) * 7919u + 1);
      std::vector<double> mine;
      // update/delete: this client's own slice of ids, so versions never collide.
      std::vector<std::string> slice;
      for (std::size_t i = std::size_t(c); i < ids.size(); i += std::size_t(o.concurrency))
        slice.push_back(ids[i]);
      std::vector<int64_t> versions(slice.size(), 1);
      std::string cursor;
      for (int n;;) {
        // A client whose own ids are used up stops before it takes a request number that
        // another client's ids could still serve (delete ran 3,176 of 3,200 so).
        if ((o.scenario == "delete" || o.scenario == "update") && slice.empty()) break;
        n = next.fetch_add(1);
        if (n >= o.requests) break;
        http::verb verb = http::verb::get;
        std::string target, body, type;
        std::size_t slot = 0;
        if (o.scenario == "upload") {
          verb = http::verb::post;
          target = "/images";
          body = upload_body;
          type = upload_type;
        } else if (o.scenario == "seed") {
          verb = http::verb::post;
          target = "/images";
          body = multipart(small_png(n), "seed.png", type);
        } else if (o.scenario == "get") {
          target = "/images/" + ids[rng() % ids.size()];
        } else if (o.scenario == "list") {
          // Alternate first pages and follow-up pages via the cursor.
          target = "/images?limit=20";
          if (!cursor.empty() && n % 2 == 1) target += "&cursor=" + cursor;
        } else if (o.scenario == "update") {
          slot = rng() % slice.size();
          verb = http::verb::patch;
          target = "/images/" + slice[slot];
          body = "{\"title\":\"bench " + std::to_string(n) +
                 "\",\"version\":" + std::to_string(versions[slot]) + "}";
          type = "application/json";
        } else if (o.scenario == "files") {
          target = ids[std::size_t(n) % ids.size()];
        } else if (o.scenario == "delete") {
          verb = http::verb::delete_;
          target = "/images/" + slice.back();
          slice.pop_back();
        }
        auto t0 = std::chrono::steady_clock::now();
        http::response<http::string_body> res;
        try {
          res = client.send(verb, target, body, type);
        } catch (const std::exception& e) {
          ++errors;
          continue;
        }
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                        .count();
        int status = res.result_int();
        if (status >= 300) {
          ++errors;
          non2xx_status = status;
          continue;
        }
        mine.push_back(ms);
        bool record_id = o.scenario == "seed" || (o.scenario == "upload" && !o.ids_path.empty());
        if (record_id || o.scenario == "list" || o.scenario == "update") {
          auto j = boost::json::parse(res.body()).as_object();
          if (record_id) {
            std::lock_guard l(mu);
            created.push_back(std::string(j["id"].as_string()));
          } else if (o.scenario == "list") {
            auto& nc = j["pagination"].as_object()["nextCursor"];
            cursor = nc.is_string() ? std::string(nc.as_string()) : std::string();
          } else {
            versions[slot] = j["version"].as_int64();
          }
        }
      }
      std::lock_guard l(mu);
      lat.insert(lat.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (o.scenario == "seed" || (o.scenario == "upload" && !o.ids_path.empty())) {
    std::ofstream out(o.ids_path);
    for (auto& id : created) out << id << "\n";
  }
  std::size_t ok = lat.size();
  std::ostringstream js;
  js.setf(std::ios::fixed);
  js.precision(2);
  js << "{\"scenario\":\"" << o.scenario << "\",\"concurrency\":" << o.concurrency
     << ",\"ok\":" << ok << ",\"errors\":" << errors.load()
     << ",\"lastErrorStatus\":" << non2xx_status.load() << ",\"seconds\":" << secs
     << ",\"throughput\":" << (secs > 0 ? double(ok) / secs : 0)
     << ",\"p50\":" << percentile(lat, 50) << ",\"p95\":" << percentile(lat, 95)
     << ",\"p99\":" << percentile(lat, 99) << ",\"max\":" << (lat.empty() ? 0 : lat.back()) << "}";
  std::cout << js.str() << std::endl;
  return errors.load() == 0 ? 0 : 1;
}
