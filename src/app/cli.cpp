#include "app/cli.h"

#include <pthread.h>
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include <boost/json.hpp>
#include "app/backends.h"
#include "app/config.h"
#include "app/config_file.h"
#include "app/crash_report.h"
#include "app/secrets.h"
#include "app/serve.h"
#include "app/tool_commands.h"
#include "auth/token_verifier.h"
#include "cache/redis_client.h"
#include "cache/redis_metadata_cache.h"
#include "domain/fsck.h"
#include "domain/model/error.h"
#include "domain/ports/clock.h"
#include "obs/metrics.h"

namespace isvc::app {

namespace {

int token_command(const std::string& user, const std::string& role_text, const std::string& ttl) {
  Config cfg = load_settings("", process_env());
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
  std::cout << auth::mint_hs256(cfg.jwt_secret, user, role, parse_duration_s(ttl), clock.now_s(),
                                cfg.jwt_issuer,
                                cfg.jwt_audience.empty() ? "" : cfg.jwt_audience.front())
            << "\n";
  return 0;
}

int provision_command() {
  Config cfg = load_settings("", process_env());
  Backends b = open_backends(cfg);
  for (const auto& line : provision_backends(b, cfg)) std::cout << line << "\n";
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  install_crash_report();  // every command: a crash leaves its stack on stderr (crash_report.h)
  CLI::App app{"image-service: upload, process, store and deliver images"};
  app.require_subcommand(0, 1);
  auto* serve = app.add_subcommand("serve", "run the HTTP service (the default)");
  std::string config_path;
  serve->add_option(
      "--config", config_path,
      "KEY=value settings file (EnvironmentFile= syntax); the environment overrides it");
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
  auto* migrate = app.add_subcommand(
      "migrate",
      "copy the legacy gallery_images table into the metadata store (or back: --reverse)");
  MigrateArgs ma;
  int64_t limit = 0;
  migrate->add_option("--legacy-url", ma.legacy_url, "postgres://user:pass@host:port/db")
      ->required();
  migrate->add_flag("--dry-run", ma.dry_run, "read and map every row, write nothing");
  migrate->add_flag("--reverse", ma.reverse, "write the service's records back (rollback)");
  migrate->add_option("--limit", limit, "read at most this many rows in this run");
  migrate->add_option("--since", ma.since, "only rows created/updated since (1h, 7d or ISO time)");
  migrate->add_option("--checkpoint", ma.checkpoint,
                      "resume file (default DATA_DIR/migrate-checkpoint.json)");
  migrate->add_option("--rejects", ma.rejects,
                      "reject report (default DATA_DIR/migrate-rejects.jsonl)");
  migrate
      ->add_option("--writers", ma.writers,
                   "writes in flight (default 8 into DynamoDB, 1 into SQLite)")
      ->check(CLI::Range(1, 256));
  migrate->add_option("--page-size", ma.page_size, "rows per page (default 1000)")
      ->check(CLI::Range(1, 10000));
  migrate
      ->add_option("--batch-rows", ma.batch_rows,
                   "rows per store write (default 10000 into SQLite, one page into DynamoDB)")
      ->check(CLI::Range(1, 1000000));
  migrate->add_option("--progress-ms", ma.progress_ms, "progress line interval off a terminal (ms)")
      ->check(CLI::Range(10, 3600000));
  auto* verify = app.add_subcommand(
      "verify",
      "compare the legacy table and the metadata store record by record; exit 1 on "
      "any mismatch");
  std::string v_url, v_since, v_report;
  bool v_json = false;
  verify->add_option("--legacy-url", v_url, "postgres://user:pass@host:port/db")->required();
  verify->add_option("--since", v_since, "only what changed since (1h, 7d or ISO time)");
  verify->add_option("--report", v_report,
                     "JSON report file (default DATA_DIR/verify-report.json)");
  verify->add_flag("--json", v_json, "print the JSON report instead of the summary");
  auto* backfill = app.add_subcommand(
      "backfill-placeholders",
      "give active images without a ThumbHash and dominant colour theirs, from their main image "
      "(resumable: done ones are skipped); exit 1 if any could not be done");
  BackfillArgs ba;
  int64_t b_limit = 0;
  backfill->add_flag("--dry-run", ba.dry_run, "compute, write nothing");
  backfill->add_option("--limit", b_limit, "look at most at this many images in this run")
      ->check(CLI::PositiveNumber);
  backfill->add_flag("--json", ba.json, "one JSON object instead of the summary line");
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
    if (*migrate) {
      if (limit > 0) ma.limit = limit;
      return migrate_command(ma);
    }
    if (*verify) return verify_command(v_url, v_since, v_report, v_json);
    if (*backfill) {
      if (b_limit > 0) ba.limit = b_limit;
      return backfill_placeholders_command(ba);
    }
    if (*version) {
      std::cout << "image-service 0.1.0\n";
      return 0;
    }
    (void)serve;
    return serve_command(config_path);
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
  } catch (const std::invalid_argument& e) {
    std::cerr << "image-service: " << e.what() << "\n";
    return 2;
  } catch (const std::runtime_error& e) {
    std::cerr << "image-service: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace isvc::app
