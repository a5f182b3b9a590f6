#include "app/cli.h"

#include <pthread.h>
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include <boost/json.hpp>
#include "app/backends.h"
#include "app/config.h"
#include "app/secrets.h"
#include "app/serve.h"
#include "auth/token_verifier.h"
#include "cache/redis_client.h"
#include "cache/redis_metadata_cache.h"
#include "domain/clock.h"
#include "domain/error.h"
#include "domain/fsck.h"
#include "obs/metrics.h"

namespace isvc::app {

namespace {

// "3600", "90s", "30m", "12h", "7d" → seconds.
int64_t parse_ttl(const std::string& text) {
  if (text.empty()) throw CLI::ValidationError("--ttl", "empty duration");
  int64_t mult = 1;
  std::string digits = text;
  switch (text.back()) {
    case 's':
      mult = 1;
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
    throw CLI::ValidationError("--ttl", "expected a duration like 3600, 30m, 1h or 7d");
  return std::stoll(digits) * mult;
}

int token_command(const std::string& user, const std::string& role_text, const std::string& ttl) {
  Config cfg = load_config(process_env());
  resolve_secrets(cfg);
  if (cfg.jwt_secret.empty()) {
    std::cerr << "image-service token: JWT_SECRET is not set (tokens for a JWKS issuer come from "
                 "that issuer)\n";
    return 2;
  }
  auth::Role role = auth::Role::User;
  if (role_text == "admin")
    role = auth::Role::Admin;
  else if (role_text == "service")
    role = auth::Role::Service;
  else if (role_text != "user") {
    std::cerr << "image-service token: --role must be user, admin or service\n";
    return 2;
  }
  domain::SystemClock clock;
  std::cout << auth::mint_hs256(cfg.jwt_secret, user, role, parse_ttl(ttl), clock.now_s(),
                                cfg.jwt_issuer,
                                cfg.jwt_audience.empty() ? "" : cfg.jwt_audience.front())
            << "\n";
  return 0;
}

int fsck_command(bool repair, const std::string& grace, bool json) {
  Config cfg = load_config(process_env());
  Backends b = open_backends(cfg);
  obs::ServiceMetrics metrics;
  std::unique_ptr<cache::RedisClient> redis;
  std::unique_ptr<cache::RedisMetadataCache> cached;
  storage::MetadataStore* metadata = b.metadata.get();
  if (!cfg.redis_endpoint.empty()) {  // so repairs also invalidate what instances have cached
    redis = std::make_unique<cache::RedisClient>(cache::parse_redis_endpoint(cfg.redis_endpoint));
    cache::RedisCacheSettings rs;
    rs.key_namespace = cache_namespace(cfg);
    cached = std::make_unique<cache::RedisMetadataCache>(*metadata, *redis, metrics, rs);
    metadata = cached.get();
  }
  domain::SystemClock clock;
  domain::FsckOptions opts;
  opts.repair = repair;
  opts.grace_ms = parse_ttl(grace) * 1000;
  auto r = domain::run_fsck(*metadata, *b.objects, clock, opts);
  if (json) {
    boost::json::object o{{"orphans", r.orphans},
                          {"dangling", r.dangling},
                          {"repaired", r.repaired},
                          {"checked", r.checked},
                          {"objects", r.objects},
                          {"pendingDeletes", r.pending_deletes},
                          {"lapsedUploads", r.lapsed_uploads},
                          {"counterDrift", r.counter_drift}};
    boost::json::array ok, dk;
    for (const auto& k : r.orphan_keys) ok.emplace_back(k);
    for (const auto& k : r.dangling_ids) dk.emplace_back(k);
    o["orphanKeys"] = std::move(ok);
    o["danglingIds"] = std::move(dk);
    std::cout << boost::json::serialize(o) << "\n";
  } else {
    std::cout << "checked " << r.checked << " records and " << r.objects << " objects ("
              << b.metadata->name() << " + " << b.objects->name() << ")\n"
              << "  orphaned objects (older than " << grace << "): " << r.orphans << "\n"
              << "  dangling records (bytes missing): " << r.dangling << "\n"
              << "  deletes left half-way:            " << r.pending_deletes << "\n"
              << "  lapsed direct uploads:            " << r.lapsed_uploads << "\n"
              << "  counter cells that drifted:       " << r.counter_drift << "\n"
              << "  repaired:                         " << r.repaired
              << (repair ? "" : " (run with --repair to fix what can be fixed)") << "\n";
    for (const auto& k : r.orphan_keys) std::cout << "  orphan   " << k << "\n";
    for (const auto& id : r.dangling_ids) std::cout << "  dangling " << id << "\n";
  }
  return r.unresolved() > 0 ? 1 : 0;
}

int provision_command() {
  Config cfg = load_config(process_env());
  Backends b = open_backends(cfg);
  for (const auto& line : provision_backends(b, cfg)) std::cout << line << "\n";
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"image-service: upload, process, store and deliver images"};
  app.require_subcommand(0, 1);
  auto* serve = app.add_subcommand("serve", "run the HTTP service (the default)");
  auto* token = app.add_subcommand("token", "print a signed HS256 token for development/testing");
  std::string user, role = "user", ttl = "1h";
  token->add_option("--user", user, "subject (user id)")->required();
  token->add_option("--role", role, "user | admin | service");
  token->add_option("--ttl", ttl, "lifetime: seconds or 30m, 1h, 7d");
  auto* provision = app.add_subcommand(
      "provision", "create the configured table and bucket with their settings (idempotent)");
  auto* fsck = app.add_subcommand(
      "fsck",
      "check objects against metadata (orphans, dangling records, counters); exit 1 if "
      "anything is left wrong");
  bool repair = false, json = false;
  std::string grace = "1h";
  fsck->add_flag("--repair", repair,
                 "remove orphans older than --grace, finish half-way deletes, fix counters");
  fsck->add_option("--grace", grace, "orphans younger than this are left alone (default 1h)");
  fsck->add_flag("--json", json, "one JSON object instead of the human summary");
  auto* version = app.add_subcommand("version", "print the version");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*token) return token_command(user, role, ttl);
    if (*provision) return provision_command();
    if (*fsck) return fsck_command(repair, grace, json);
    if (*version) {
      std::cout << "image-service 0.1.0\n";
      return 0;
    }
    (void)serve;
    return serve_command();
  } catch (const ConfigError& e) {
    std::cerr << "image-service: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const domain::Error& e) {
    std::cerr << "image-service: " << e.what();
    for (const auto& [k, v] : e.details()) std::cerr << " (" << k << ": " << v << ")";
    std::cerr << "\n";
    return 1;
  } catch (const CLI::ValidationError& e) {
    std::cerr << "image-service: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace isvc::app
