#include "app/tool_commands.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "app/backends.h"
#include "app/config.h"
#include "app/config_file.h"
#include "app/processing.h"
#include "base/time_format.h"
#include "cache/redis_client.h"
#include "cache/redis_metadata_cache.h"
#include "domain/fsck.h"
#include "domain/placeholder_backfill.h"
#include "domain/ports/clock.h"
#include "domain/validation.h"
#include "imaging/vips_processor.h"
#include "migrate/legacy_table.h"
#include "migrate/migration.h"
#include "migrate/verify.h"
#include "obs/metrics.h"

namespace isvc::app {

namespace {

// The configured stores. With REDIS_ENDPOINT set, image reads and writes go through the Redis
// cache and what the tools change behind it (imports, counter repairs) is announced to it, so
// every running instance sees the change.
struct Stores {
  Config cfg = load_settings("", process_env());
  Backends backends = open_backends(cfg);
  obs::ServiceMetrics metrics;
  std::unique_ptr<cache::RedisClient> redis;
  std::unique_ptr<cache::RedisMetadataCache> cached;
  domain::MetadataBackend* metadata = nullptr;  // the store itself
  domain::ImageRepository* images = nullptr;    // through the cache when there is one

  // After counters were corrected behind the cache: its cached counts are stale.
  void counters_repaired() {
    if (cached) cached->invalidate_all();
  }

  Stores() {
    metadata = backends.metadata.get();
    images = metadata;
    if (!cfg.redis_endpoint.empty()) {
      redis = std::make_unique<cache::RedisClient>(cache::parse_redis_endpoint(cfg.redis_endpoint));
      cache::RedisCacheSettings rs;
      rs.key_namespace = cache_namespace(cfg);
      cached = std::make_unique<cache::RedisMetadataCache>(*metadata, *redis, metrics, rs);
      images = cached.get();
    }
  }
};

// "--since": a duration back from now ("1h") or an ISO 8601 timestamp.
std::optional<int64_t> since_ms(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (auto t = base::parse_iso8601_ms(text)) return *t;
  domain::SystemClock clock;
  return clock.now_ms() - parse_duration_s(text) * 1000;
}

}  // namespace

int64_t parse_duration_s(const std::string& text) {
  if (text.empty()) throw std::invalid_argument("empty duration");
  int64_t mult = 1;
  std::string digits = text;
  switch (text.back()) {
    case 's':
      digits.pop_back();
      break;
    case 'm':
      mult = 60;
      digits.pop_back();
      break;
    case 'h':
      mult = 3600;
      digits.pop_back();
      break;
    case 'd':
      mult = 86400;
      digits.pop_back();
      break;
    default:
      break;
  }
  if (digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument("expected a duration like 3600, 30m, 1h or 7d, got '" + text + "'");
  return std::stoll(digits) * mult;
}

int fsck_command(bool repair, const std::string& grace, bool json) {
  Stores st;
  auto& b = st.backends;
  domain::MetadataBackend* metadata = st.metadata;
  domain::SystemClock clock;
  domain::FsckOptions opts;
  opts.repair = repair;
  opts.grace_ms = parse_duration_s(grace) * 1000;
  auto r = domain::run_fsck({*st.images, *metadata, *metadata, *b.objects}, clock, opts);
  if (repair && r.repaired > 0) st.counters_repaired();
  if (json) {
    boost::json::object o{{"orphans", r.orphans},
                          {"dangling", r.dangling},
                          {"repaired", r.repaired},
                          {"checked", r.checked},
                          {"objects", r.objects},
                          {"pendingDeletes", r.pending_deletes},
                          {"lapsedUploads", r.lapsed_uploads},
                          {"counterDrift", r.counter_drift},
                          {"sharedKeys", r.shared_keys}};
    boost::json::array ok, dk, sk;
    for (const auto& k : r.orphan_keys) ok.emplace_back(k);
    for (const auto& k : r.dangling_ids) dk.emplace_back(k);
    for (const auto& k : r.shared_key_list) sk.emplace_back(k);
    o["orphanKeys"] = std::move(ok);
    o["danglingIds"] = std::move(dk);
    o["sharedKeyList"] = std::move(sk);
    std::cout << boost::json::serialize(o) << "\n";
  } else {
    std::cout << "checked " << r.checked << " records and " << r.objects << " objects ("
              << b.metadata->name() << " + " << b.objects->name() << ")\n"
              << "  orphaned objects (older than " << grace << "): " << r.orphans << "\n"
              << "  dangling records (bytes missing): " << r.dangling << "\n"
              << "  deletes left half-way:            " << r.pending_deletes << "\n"
              << "  lapsed direct uploads:            " << r.lapsed_uploads << "\n"
              << "  counter cells that drifted:       " << r.counter_drift << "\n"
              << "  objects shared by several users:  " << r.shared_keys << "\n"
              << "  repaired:                         " << r.repaired
              << (repair ? "" : " (run with --repair to fix what can be fixed)") << "\n";
    for (const auto& k : r.orphan_keys) std::cout << "  orphan   " << k << "\n";
    for (const auto& id : r.dangling_ids) std::cout << "  dangling " << id << "\n";
    for (const auto& k : r.shared_key_list) std::cout << "  shared   " << k << "\n";
  }
  return r.unresolved() > 0 ? 1 : 0;
}

int migrate_command(const MigrateArgs& a) {
  Stores st;
  migrate::LegacyTable legacy(a.legacy_url);
  if (a.reverse) {
    auto r = migrate::run_reverse(legacy, *st.metadata, a.dry_run, std::cerr);
    std::cout << "migrate --reverse: " << r.scanned << " records, " << r.written
              << (a.dry_run ? " would be written" : " upserted into gallery_images") << ", "
              << r.skipped << " skipped, " << r.seconds << " s\n";
    return r.skipped > 0 ? 1 : 0;
  }
  migrate::MigrateOptions o;
  o.dry_run = a.dry_run;
  o.limit = a.limit;
  o.since_ms = since_ms(a.since);
  o.checkpoint_path =
      a.checkpoint.empty() ? st.cfg.data_dir + "/migrate-checkpoint.json" : a.checkpoint;
  o.rejects_path = a.rejects.empty() ? st.cfg.data_dir + "/migrate-rejects.jsonl" : a.rejects;
  o.normalized_path = st.cfg.data_dir + "/migrate-normalized.jsonl";
  o.keys.allowed_prefixes = st.cfg.import_key_prefixes;
  // SQLite writes one transaction at a time: several writers only split the page into smaller
  // transactions (more WAL pages written per row); DynamoDB answers each call in milliseconds.
  o.writers = a.writers > 0 ? a.writers : st.cfg.metadata_backend == "dynamodb" ? 8 : 1;
  o.page_size = a.page_size;
  // SQLite: one transaction per batch; a larger one writes each index page to the WAL once for
  // more rows. DynamoDB: the page, split among the writers, as before.
  o.batch_rows = a.batch_rows > 0                        ? a.batch_rows
                 : st.cfg.metadata_backend == "dynamodb" ? a.page_size
                                                         : 10000;
  o.progress_every_ms = a.progress_ms;
  o.tty = isatty(STDERR_FILENO) == 1;
  if (st.cached)
    o.after_import = [&st](const auto& records, const auto& outcomes) {
      st.cached->imported(records, outcomes);
    };
  auto s =
      migrate::run_migration(legacy, *st.metadata, st.backends.objects->bucket(), o, std::cerr);
  if (s.counter_fixes > 0) st.counters_repaired();
  double rate = s.seconds > 0 ? double(s.read) / s.seconds : 0;
  std::cout << "migrate" << (a.dry_run ? " (dry run)" : "") << (s.resumed ? " (resumed)" : "")
            << ": read " << s.read << ", written " << s.written() << " (created " << s.created
            << ", updated " << s.updated << "), skipped " << s.unchanged << " unchanged, rejected "
            << s.rejected << " (see " << o.rejects_path << "), normalized " << s.normalized
            << " (see " << o.normalized_path << "), counter fixes " << s.counter_fixes << ", "
            << s.seconds << " s, " << int64_t(rate) << " rows/s\n";
  return 0;
}

int verify_command(const std::string& legacy_url, const std::string& since,
                   const std::string& report, bool json) {
  Stores st;
  migrate::LegacyTable legacy(legacy_url);
  auto r = migrate::run_verify(legacy, *st.images, *st.metadata, since_ms(since));
  std::string text = migrate::report_json(r);
  std::string path = report.empty() ? st.cfg.data_dir + "/verify-report.json" : report;
  std::ofstream(path, std::ios::trunc) << text << "\n";
  if (json) {
    std::cout << text << "\n";
  } else {
    std::cout << "verify" << (since.empty() ? "" : " --since " + since) << ": " << r.legacy_rows
              << " legacy rows (" << r.unmappable << " unmappable, see migrate's rejects), "
              << r.service_records << " service records, " << r.compared << " compared, "
              << r.mismatches.size() << " mismatches, " << r.seconds << " s; report: " << path
              << "\n";
    std::size_t shown = 0;
    for (const auto& m : r.mismatches) {
      if (++shown > 20) {
        std::cout << "  … " << r.mismatches.size() - 20 << " more in the report\n";
        break;
      }
      if (m.kind == "field")
        std::cout << "  " << m.id << " " << m.field << ": legacy '" << m.legacy << "' service '"
                  << m.service << "'\n";
      else
        std::cout << "  " << m.id << " " << m.kind << "\n";
    }
  }
  return r.mismatches.empty() ? 0 : 1;
}

int backfill_placeholders_command(const BackfillArgs& a) {
  Stores st;
  imaging::init_vips(1);
  imaging::VipsProcessor processor(processing_limits(st.cfg));
  domain::BackfillOptions o;
  o.dry_run = a.dry_run;
  o.limit = a.limit;
  auto started = std::chrono::steady_clock::now();
  auto r = domain::run_placeholder_backfill(
      {*st.images, *st.metadata, *st.backends.objects, processor}, o);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (a.json) {
    boost::json::object j{
        {"scanned", r.scanned},    {"lacking", r.lacking}, {"filled", r.filled},
        {"noSource", r.no_source}, {"failed", r.failed},   {"conflicts", r.conflicts},
        {"left", r.left},          {"dryRun", a.dry_run},  {"seconds", seconds}};
    boost::json::array f, n;
    for (const auto& id : r.failed_ids) f.emplace_back(id);
    for (const auto& id : r.no_source_ids) n.emplace_back(id);
    j["failedIds"] = std::move(f);
    j["noSourceIds"] = std::move(n);
    std::cout << boost::json::serialize(j) << "\n";
  } else {
    std::cout << "backfill-placeholders" << (a.dry_run ? " (dry run)" : "") << ": scanned "
              << r.scanned << ", lacking " << r.lacking << ", "
              << (a.dry_run ? "would fill " : "filled ") << r.filled << ", main image missing "
              << r.no_source << ", failed " << r.failed << ", edited meanwhile " << r.conflicts
              << ", left by --limit " << r.left << ", " << seconds << " s\n";
    for (const auto& id : r.failed_ids) std::cout << "  failed    " << id << "\n";
    for (const auto& id : r.no_source_ids) std::cout << "  no source " << id << "\n";
  }
  return r.unresolved() > 0 ? 1 : 0;
}

}  // namespace isvc::app
