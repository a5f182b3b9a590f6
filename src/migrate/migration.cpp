#include "migrate/migration.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iomanip>
#include <map>
#include <numeric>
#include <ostream>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "domain/legacy_import.h"
#include "domain/model/error.h"
#include "migrate/legacy_mapping.h"
#include "migrate/page_queue.h"

namespace isvc::migrate {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Checkpoint {
  std::optional<KeysetPosition> after;
  MigrateSummary totals;
  int64_t since_ms = 0;
};

std::optional<Checkpoint> load_checkpoint(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = json::parse(ss.str(), ec);
  if (ec || !v.is_object()) throw std::runtime_error("unreadable checkpoint " + path);
  const auto& o = v.as_object();
  Checkpoint c;
  if (auto* a = o.if_contains("after"); a && a->is_object())
    c.after = KeysetPosition{std::string(a->at("createdAt").as_string()),
                             std::string(a->at("id").as_string())};
  auto n = [&](const char* k) { return o.at(k).as_int64(); };
  c.totals.read = n("read");
  c.totals.created = n("created");
  c.totals.updated = n("updated");
  c.totals.unchanged = n("unchanged");
  c.totals.rejected = n("rejected");
  if (o.contains("normalized")) c.totals.normalized = n("normalized");  // older checkpoints lack it
  c.since_ms = n("sinceMs");
  return c;
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  json::object o{{"read", c.totals.read},         {"created", c.totals.created},
                 {"updated", c.totals.updated},   {"unchanged", c.totals.unchanged},
                 {"rejected", c.totals.rejected}, {"normalized", c.totals.normalized},
                 {"sinceMs", c.since_ms}};
  if (c.after) o["after"] = json::object{{"createdAt", c.after->created_at}, {"id", c.after->id}};
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json::serialize(o) << "\n";
    out.flush();
    if (!out) throw std::runtime_error("cannot write checkpoint " + tmp);
  }
  std::filesystem::rename(tmp, path);  // atomic: a kill leaves the old or the new checkpoint
}

std::string fmt_int(int64_t n) {
  std::string s = std::to_string(n), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

class Progress {
 public:
  Progress(std::ostream& out, bool tty, int every_ms, int64_t total)
      : out_(out),
        tty_(tty),
        every_(every_ms),
        total_(total),
        start_(Clock::now()),
        last_(start_) {}
  void update(int64_t done, bool force = false) {
    auto now = Clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(tty_ ? 200 : every_)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? double(done - first_) / secs : 0;
    int64_t left = std::max<int64_t>(0, total_ - done);
    std::string eta = rate > 0 ? std::to_string(int64_t(double(left) / rate)) + "s" : "?";
    std::ostringstream line;
    if (tty_) {
      int width = 30,
          filled =
              total_ > 0 ? int(width * std::min<double>(1.0, double(done) / double(total_))) : 0;
      line << "\r[" << std::string(std::size_t(filled), '#')
           << std::string(std::size_t(width - filled), '.') << "] " << fmt_int(done) << "/"
           << fmt_int(total_) << " rows  " << int64_t(rate) << " rows/s  ETA " << eta << "   ";
      out_ << line.str() << std::flush;
    } else {
      out_ << "migrate: " << done << "/" << total_ << " rows, " << int64_t(rate) << " rows/s, ETA "
           << eta << std::endl;
    }
  }
  void start_at(int64_t done) { first_ = done; }
  void finish() {
    if (tty_) out_ << "\n";
  }

 private:
  std::ostream& out_;
  bool tty_;
  int every_;
  int64_t total_;
  int64_t first_ = 0;
  Clock::time_point start_, last_;
};

// Splits a page into at most `writers` parts for parallel imports. Records that share an object
// key go into one part, in page order: a store decides who owns a key within one batch, but two
// batches in flight at once could both take it (DynamoDB's batch writes are unconditional).
std::vector<std::vector<std::size_t>> writer_parts(const std::vector<domain::ImageRecord>& records,
                                                   std::size_t writers) {
  std::vector<std::size_t> parent(records.size());
  std::iota(parent.begin(), parent.end(), std::size_t(0));
  auto root = [&](std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  std::unordered_map<std::string, std::size_t> first_with;
  for (std::size_t i = 0; i < records.size(); ++i) {
    for (const auto* key :
         {&records[i].s3_key, records[i].thumbnail_key ? &*records[i].thumbnail_key : nullptr}) {
      if (!key) continue;
      auto [it, added] = first_with.emplace(*key, i);
      if (!added) parent[root(i)] = root(it->second);
    }
  }
  std::map<std::size_t, std::vector<std::size_t>> groups;  // by the group's first record
  std::unordered_map<std::size_t, std::size_t> first_of_root;
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto [it, added] = first_of_root.emplace(root(i), i);
    groups[it->second].push_back(i);
  }
  // Each group to the smallest part so far: at most `writers` parts, about equal in size.
  std::vector<std::vector<std::size_t>> parts(std::max<std::size_t>(writers, 1));
  for (auto& [first, members] : groups) {
    auto smallest = std::min_element(parts.begin(), parts.end(), [](const auto& a, const auto& b) {
      return a.size() < b.size();
    });
    smallest->insert(smallest->end(), members.begin(), members.end());
  }
  std::erase_if(parts, [](const auto& p) { return p.empty(); });
  for (auto& p : parts) std::sort(p.begin(), p.end());
  return parts;
}

// The reject-report reason of a record the store refused.
const char* conflict_reason(domain::ImportOutcome o) {
  if (o == domain::ImportOutcome::OwnerConflict)
    return "userId: IMAGE_OWNER_CONFLICT: the id belongs to another user's image, which is kept";
  return "s3Key: OBJECT_KEY_CONFLICT: another user's image uses this object (s3Key or "
         "thumbnailKey)";
}

// A page read from the legacy table and mapped, waiting for its write.
struct MappedPage {
  int64_t rows = 0;  // legacy rows read
  KeysetPosition last;
  std::vector<domain::ImageRecord> records;
  std::vector<std::string> changed;                          // per record: the fields normalised
  std::vector<std::pair<std::string, std::string>> rejects;  // (id, reason): not mappable
};

// A write should hold SQLite's write lock for about this long at most: the service's own writers
// (dual-write imports) wait for it, up to their 5 s busy timeout.
constexpr double kBatchSeconds = 1.0;

}  // namespace

MigrateSummary run_migration(LegacyTable& legacy, domain::ImageMaintenance& store,
                             const std::string& bucket, const MigrateOptions& o,
                             std::ostream& progress_out) {
  auto started = Clock::now();
  Checkpoint cp;
  cp.since_ms = o.since_ms.value_or(0);
  bool resumed = false;
  if (!o.dry_run && !o.checkpoint_path.empty()) {
    if (auto prev = load_checkpoint(o.checkpoint_path)) {
      if (prev->since_ms != cp.since_ms)
        throw std::runtime_error("the checkpoint " + o.checkpoint_path +
                                 " belongs to a run with another --since; remove it to start over");
      cp = *prev;
      resumed = true;
    }
  }
  std::ofstream rejects, normalized;
  if (!o.rejects_path.empty())
    rejects.open(o.rejects_path, resumed ? std::ios::app : std::ios::trunc);
  if (!o.normalized_path.empty())
    normalized.open(o.normalized_path, resumed ? std::ios::app : std::ios::trunc);
  auto reject = [&](const std::string& id, const std::string& why) {
    ++cp.totals.rejected;
    if (rejects.is_open())
      rejects << json::serialize(json::object{{"id", id}, {"reason", why}}) << "\n";
  };

  int64_t total = legacy.count(o.since_ms);
  if (o.limit) total = std::min(total, cp.totals.read + *o.limit);
  Progress progress(progress_out, o.tty, o.progress_every_ms, total);
  progress.start_at(cp.totals.read);
  const int64_t batch_rows = std::max<int64_t>(o.batch_rows, o.page_size);
  int64_t read_this_run = 0;

  // Into an empty store the listing indexes are built once at the end (a kill in between leaves
  // them to the next open of the store, which creates them).
  bool deferred = !o.dry_run && store.begin_bulk_load();

  // Reading and mapping on their own thread, one batch ahead of the writes.
  PageQueue<MappedPage> queue(batch_rows);
  std::thread reader([&, after = cp.after]() mutable {
    std::exception_ptr error;
    try {
      int64_t read = 0;
      for (;;) {
        int want = o.page_size;
        if (o.limit) want = int(std::min<int64_t>(want, *o.limit - read));
        if (want <= 0) break;
        auto rows = legacy.page(after, o.since_ms, want);
        if (rows.empty()) break;
        MappedPage page;
        page.rows = int64_t(rows.size());
        page.last = KeysetPosition{rows.back().created_at_key, rows.back().id};
        page.records.reserve(rows.size());
        for (const auto& row : rows) {
          std::string why, fields;
          if (auto rec = map_row(row, bucket, why, &fields, o.keys)) {
            page.records.push_back(std::move(*rec));
            page.changed.push_back(std::move(fields));
          } else {
            page.rejects.emplace_back(row.id, std::move(why));
          }
        }
        read += page.rows;
        after = page.last;
        if (!queue.push(std::move(page), int64_t(rows.size()))) break;
      }
    } catch (...) {
      error = std::current_exception();
    }
    queue.close(error);
  });
  auto stop_reader = [&] {
    queue.stop();
    if (reader.joinable()) reader.join();
  };

  try {
    double rate = 0;  // rows/s of the last write, to keep the next one near kBatchSeconds
    for (;;) {
      int64_t take = batch_rows;
      if (rate > 0)
        take = std::clamp<int64_t>(int64_t(rate * kBatchSeconds), o.page_size, batch_rows);
      auto pages = queue.pop(take);
      if (pages.empty()) break;
      std::vector<domain::ImageRecord> records;
      for (auto& p : pages)
        for (auto& r : p.records) records.push_back(std::move(r));
      std::vector<domain::ImportOutcome> outcomes(records.size(), domain::ImportOutcome::Created);
      if (!o.dry_run && !records.empty()) {
        auto write_started = Clock::now();
        auto write = [&](const std::vector<std::size_t>& part) {
          std::vector<domain::ImageRecord> copies;  // a part of several: its records, in order
          if (part.size() < records.size()) {
            copies.reserve(part.size());
            for (auto i : part) copies.push_back(records[i]);
          }
          const auto& batch = part.size() < records.size() ? copies : records;
          auto got = store.import_batch(batch);
          if (o.after_import) o.after_import(batch, got);
          for (std::size_t k = 0; k < part.size() && k < got.size(); ++k)
            outcomes[part[k]] = got[k];
        };
        if (o.writers <= 1) {
          // SQLite: one writer, one transaction, the records as they are (part = all, in order).
          std::vector<std::size_t> all(records.size());
          std::iota(all.begin(), all.end(), std::size_t(0));
          write(all);
        } else if (auto parts = writer_parts(records, std::size_t(o.writers)); parts.size() == 1) {
          write(parts[0]);
        } else {
          // Several writers at once: DynamoDB answers each call in milliseconds.
          std::vector<std::future<void>> running;
          for (const auto& part : parts)
            running.push_back(std::async(std::launch::async, [&, part] { write(part); }));
          for (auto& r : running) r.get();
        }
        double secs = std::chrono::duration<double>(Clock::now() - write_started).count();
        rate = secs > 0 ? double(records.size()) / secs : 0;
      }
      std::size_t i = 0;
      for (auto& p : pages) {
        for (const auto& [id, why] : p.rejects) reject(id, why);
        for (std::size_t k = 0; k < p.records.size(); ++k, ++i) {
          switch (outcomes[i]) {
            case domain::ImportOutcome::OwnerConflict:
            case domain::ImportOutcome::KeyConflict:
              reject(records[i].id, conflict_reason(outcomes[i]));
              continue;  // not stored: its normalisation does not count
            case domain::ImportOutcome::Created:
              cp.totals.created += o.dry_run ? 0 : 1;
              break;
            case domain::ImportOutcome::Updated:
              ++cp.totals.updated;
              break;
            case domain::ImportOutcome::Unchanged:
              ++cp.totals.unchanged;
              break;
          }
          if (p.changed[k].empty()) continue;
          ++cp.totals.normalized;
          if (normalized.is_open())
            normalized << json::serialize(
                              json::object{{"id", records[i].id}, {"fields", p.changed[k]}})
                       << "\n";
        }
        cp.totals.read += p.rows;
        read_this_run += p.rows;
        cp.after = p.last;
      }
      if (rejects.is_open()) rejects.flush();
      if (normalized.is_open()) normalized.flush();
      // Only now: everything up to cp.after is committed.
      if (!o.dry_run && !o.checkpoint_path.empty()) save_checkpoint(o.checkpoint_path, cp);
      progress.update(cp.totals.read);
    }
    stop_reader();
  } catch (...) {
    stop_reader();
    if (deferred) try {
        store.finish_bulk_load();
      } catch (...) {  // the next open of the store creates the indexes
      }
    throw;
  }
  progress.update(cp.totals.read, true);
  progress.finish();

  MigrateSummary s = cp.totals;
  s.resumed = resumed;
  if (!o.dry_run) {
    // Counters are exact after every import; this settles any drift a killed run left behind.
    // Beside the index build (a snapshot read on the other core; a repair waits for the build).
    auto counters = std::async(deferred ? std::launch::async : std::launch::deferred,
                               [&] { return store.check_counters(true); });
    if (deferred) {
      progress_out << "migrate: building the listing indexes" << std::endl;
      store.finish_bulk_load();
    }
    s.counter_fixes = counters.get();
    bool finished = !o.limit || read_this_run < *o.limit;
    if (finished && !o.checkpoint_path.empty()) std::filesystem::remove(o.checkpoint_path);
  }
  s.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return s;
}

ReverseSummary run_reverse(LegacyTable& legacy, domain::ImageMaintenance& store, bool dry_run,
                           std::ostream& progress) {
  auto started = Clock::now();
  ReverseSummary s;
  std::vector<LegacyRow> batch;
  auto flush = [&] {
    if (!dry_run && !batch.empty()) legacy.upsert(batch);
    s.written += int64_t(batch.size());
    batch.clear();
  };
  store.scan([&](const domain::ImageRecord& r) {
    if (r.state != domain::ImageState::Active) return true;
    ++s.scanned;
    std::string why;
    auto row = to_row(r, why);
    if (!row) {
      ++s.skipped;
      progress << "reverse: skipped " << r.id << ": " << why << "\n";
      return true;
    }
    batch.push_back(std::move(*row));
    if (batch.size() >= 500) flush();
    return true;
  });
  flush();
  s.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return s;
}

}  // namespace isvc::migrate
