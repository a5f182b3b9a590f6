#include "app/serve.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include "api/file_cache.h"
#include "api/http_app.h"
#include "app/backends.h"
#include "app/config.h"
#include "app/config_file.h"
#include "app/openapi_document.h"
#include "app/processing.h"
#include "app/sd_notify.h"
#include "app/secrets.h"
#include "app/wiring.h"
#include "auth/token_verifier.h"
#include "base/admission.h"
#include "base/bounded_pool.h"
#include "base/crypto.h"
#include "cache/redis_client.h"
#include "cache/redis_metadata_cache.h"
#include "cache/redis_rate_limiter.h"
#include "cache/token_buckets.h"
#include "cdn/purge_queue.h"
#include "cdn/purge_targets.h"
#include "domain/cursor_codec.h"
#include "domain/direct_upload.h"
#include "domain/fsck.h"
#include "domain/image_service.h"
#include "domain/ports/clock.h"
#include "domain/ulid.h"
#include "domain/variants.h"
#include "domain/webhook_delivery.h"
#include "domain/webhook_events.h"
#include "http/server.h"
#include "http/tls.h"
#include "imaging/processing_limits.h"
#include "imaging/sniff.h"
#include "imaging/vips_log.h"
#include "imaging/vips_processor.h"
#include "obs/logger.h"
#include "obs/metrics.h"
#include "storage/instrumented.h"
#include "storage/s3_upload_urls.h"
#include "storage/service_upload_urls.h"
#include "webhooks/curl_transport.h"

namespace isvc::app {

namespace {

// Runs `task` now and then every interval on its own thread until destroyed.
class Janitor {
 public:
  // Runs `task` every interval_s (first at once, or after one interval with wait_first).
  Janitor(int interval_s, std::function<void()> task, bool wait_first = false)
      : thread_([this, interval_s, wait_first, task = std::move(task)] {
          std::unique_lock lock(mu_);
          if (wait_first)
            cv_.wait_for(lock, std::chrono::seconds(interval_s), [this] { return stop_; });
          while (!stop_) {
            lock.unlock();
            task();
            lock.lock();
            cv_.wait_for(lock, std::chrono::seconds(interval_s), [this] { return stop_; });
          }
        }) {}
  ~Janitor() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// The listener's certificate and key; a file that cannot be used stops start-up naming its
// variable.
std::shared_ptr<http::TlsContexts> load_tls(const Config& cfg) {
  if (!cfg.tls()) return nullptr;
  try {
    return std::make_shared<http::TlsContexts>(cfg.tls_cert_file, cfg.tls_key_file);
  } catch (const http::TlsError& e) {
    throw ConfigError(std::string(e.part == http::TlsError::Part::Certificate ? "TLS_CERT_FILE: "
                                                                              : "TLS_KEY_FILE: ") +
                      e.what());
  }
}

}  // namespace

int serve_command(const std::string& config_path) {
  // Signals are taken by one thread with sigwait, so every other thread must block them first.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);  // re-read the TLS certificate and key
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Every connection is a descriptor: MAX_CONNECTIONS + PROBE_CONNECTIONS plus files and
  // backends must fit under the soft limit, which many systems set to 1024.
  if (rlimit nofile{};
      getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  // Upload bodies and decoded images are large, short-lived buffers: a fixed mmap threshold
  // returns them to the OS when freed (glibc's dynamic threshold would keep them in the heap) and
  // fewer arenas limit fragmentation across the worker threads. Bounds RSS under upload load.
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
  mallopt(M_ARENA_MAX, 4);

  Config cfg = load_settings(config_path, process_env());
  obs::Level level = obs::Level::Info;
  obs::parse_level(cfg.log_level, level);
  obs::Logger log(level);
  // libvips/GLib warnings become JSON lines of this log, with the upload's request id.
  imaging::GlibLogRoute glib_route(log);
  bool dev_secret = resolve_secrets(cfg);
  std::shared_ptr<http::TlsContexts> tls = load_tls(cfg);
  std::filesystem::create_directories(cfg.data_dir);

  domain::SystemClock clock;
  obs::ServiceMetrics metrics;
  metrics.started_at_s = clock.now_ms() / 1000;
  // libvips threads per job: the cores shared by the jobs that run at once, so that
  // PROCESSING_THREADS busy jobs never ask for more threads than there are cores.
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  imaging::init_vips(std::max(1, cores / std::max(1, cfg.processing_threads)));
  imaging::ProcessingLimits limits = processing_limits(cfg);
  imaging::VipsProcessor processor(limits);
  Backends backends = open_backends(cfg);
  // Every store call is timed per backend and operation (under the cache: the stores themselves).
  storage::InstrumentedMetadataStore timed_metadata(*backends.metadata, metrics);
  storage::InstrumentedObjectStore timed_objects(*backends.objects, metrics);
  // With REDIS_ENDPOINT, every metadata read and write goes through the shared Redis cache.
  std::unique_ptr<cache::RedisClient> redis;
  std::unique_ptr<cache::RedisMetadataCache> cached_metadata;
  if (!cfg.redis_endpoint.empty()) {
    redis = std::make_unique<cache::RedisClient>(cache::parse_redis_endpoint(cfg.redis_endpoint),
                                                 cfg.redis_timeout_ms, cfg.redis_breaker_ms);
    cache::RedisCacheSettings rs;
    rs.key_namespace = cache_namespace(cfg);
    cached_metadata =
        std::make_unique<cache::RedisMetadataCache>(timed_metadata, *redis, metrics, rs);
  }
  // The image records go through the cache; uploads, idempotency keys and maintenance do not.
  domain::MetadataBackend& metadata = timed_metadata;
  domain::ImageRepository& image_records =
      cached_metadata ? static_cast<domain::ImageRepository&>(*cached_metadata) : timed_metadata;
  domain::ObjectStore& objects = timed_objects;
  base::BoundedPool cpu(cfg.processing_threads, cfg.processing_queue);
  // Every upload takes a slot from its head on (receiving, queued or processing): no more can be
  // in flight than the pool runs and queues, so an admitted upload is never refused later.
  base::AdmissionControl admission(cfg.processing_threads + cfg.processing_queue,
                                   cfg.upload_memory_budget);
  domain::UlidGenerator ids(clock);
  domain::CursorCodec cursors(cfg.cursor_secret);

  domain::ServiceSettings settings;
  settings.max_file_size = cfg.max_file_size;
  settings.max_page_size = cfg.max_page_size;
  settings.import_keys.allowed_prefixes = cfg.import_key_prefixes;
  settings.exif_keep_gps = cfg.exif_keep_gps;
  // CDN purge on delete: CloudFront and/or an HTTP PURGE endpoint, asynchronous with retries.
  std::unique_ptr<aws::HttpClient> purge_http;
  std::unique_ptr<cdn::PurgeQueue> purger;
  {
    std::vector<std::unique_ptr<cdn::PurgeTarget>> targets;
    if (!cfg.cloudfront_distribution_id.empty() || !cfg.cdn_purge_url.empty())
      purge_http = std::make_unique<aws::HttpClient>();
    if (!cfg.cloudfront_distribution_id.empty()) {
      std::string prefix;
      if (cfg.cdn_base_url_explicit) prefix = aws::HttpClient::parse_url(cfg.cdn_base_url).path;
      if (prefix == "/") prefix.clear();
      targets.push_back(std::make_unique<cdn::CloudFrontTarget>(
          *purge_http,
          aws::Credentials{cfg.aws_access_key_id, cfg.aws_secret_access_key, cfg.aws_session_token},
          cfg.cloudfront_distribution_id, prefix, aws::RetryPolicy{},
          "https://cloudfront.amazonaws.com", backends.engine_requests.get()));
    }
    if (!cfg.cdn_purge_url.empty())
      targets.push_back(std::make_unique<cdn::HttpPurgeTarget>(*purge_http, cfg.cdn_purge_url));
    if (!targets.empty()) {
      cdn::PurgeQueueSettings ps;
      ps.retry.base_ms = cfg.cdn_purge_retry_base_ms;
      purger = std::make_unique<cdn::PurgeQueue>(std::move(targets), log, ps);
    }
  }
  // A delete evicts the bytes from every cache in front of them: this process's file cache and
  // the CDN.
  api::FileCache file_cache(cfg.file_cache_bytes, 16 * 1024 * 1024);
  PurgeFanout purges;
  purges.add(&file_cache);
  purges.add(purger.get());
  // Webhooks (WEBHOOK_URLS): every change records its events in the outbox with itself; the
  // worker (started once the server listens) delivers them. No URLs: no events, no worker.
  std::vector<domain::WebhookTarget> hook_targets;
  std::vector<std::string> hook_keys;
  for (std::size_t i = 0; i < cfg.webhooks.urls.size(); ++i) {
    const auto& url = cfg.webhooks.urls[i];
    hook_targets.push_back({url, domain::webhook_target_key(url), cfg.webhooks.secrets[i],
                            webhooks::display_url(url)});
    hook_keys.push_back(hook_targets.back().key);
  }
  api::HttpApp* app_for_events = nullptr;  // renders the image objects; set before any request
  domain::WebhookEvents hook_events(hook_keys, ids, clock, [&](const domain::ImageRecord& r) {
    return app_for_events->render_image_object(r);
  });
  webhooks::TransportSettings hook_transport_settings;
  hook_transport_settings.allow_private_targets = cfg.webhooks.allow_private_targets;
  hook_transport_settings.connect_timeout_ms = cfg.webhooks.connect_timeout_ms;
  hook_transport_settings.timeout_ms = cfg.webhooks.timeout_ms;
  webhooks::CurlTransport hook_transport(hook_transport_settings);
  domain::WebhookDeliverySettings hook_settings;
  hook_settings.retry_for_ms = cfg.webhooks.retry_for_s * 1000;
  hook_settings.retry_initial_ms = cfg.webhooks.retry_initial_ms;
  hook_settings.retry_max_ms = cfg.webhooks.retry_max_ms;
  hook_settings.poll_ms = cfg.webhooks.poll_ms;
  // The lease covers the worst case of a batch: connect and transfer bounded by the total.
  hook_settings.attempt_timeout_ms = cfg.webhooks.timeout_ms;
  std::unique_ptr<domain::WebhookDelivery> hook_delivery;
  if (!hook_targets.empty())
    hook_delivery = std::make_unique<domain::WebhookDelivery>(
        metadata, hook_transport, clock, log, hook_targets, hook_settings, "isvc-" + ids.next());
  domain::ImageService images(domain::ServiceDeps{image_records, objects, processor, cpu, ids,
                                                  clock, cursors, metrics, &purges, &hook_events,
                                                  [&] {
                                                    if (hook_delivery) hook_delivery->wake();
                                                  },
                                                  &metadata},
                              settings);
  domain::IdempotentRequests idempotent(metadata, image_records, clock);

  // Direct uploads: S3 presigned URLs, or the service's own signed URL in embedded mode.
  storage::ServiceUploadUrls service_urls(
      base::hmac_sha256(cfg.cursor_secret, "isvc-upload-url-v1"), cfg.public_base_url);
  std::unique_ptr<storage::S3UploadUrls> s3_urls;
  if (backends.s3) s3_urls = std::make_unique<storage::S3UploadUrls>(*backends.s3, clock);
  domain::DirectUploadSettings upload_settings;
  upload_settings.url_ttl_s = cfg.upload_url_ttl_s;
  upload_settings.max_file_size = cfg.max_file_size;
  upload_settings.content_types.clear();
  for (auto f : limits.accepted_formats) {
    upload_settings.content_types.push_back(imaging::mime_type(f));
    // iOS and some browsers label HEIC files image/heif; the bytes are sniffed either way.
    if (f == domain::ImageFormat::Heic) upload_settings.content_types.push_back("image/heif");
  }
  domain::DirectUploads uploads(images, metadata, objects,
                                s3_urls ? static_cast<domain::UploadUrlSigner&>(*s3_urls)
                                        : static_cast<domain::UploadUrlSigner&>(service_urls),
                                ids, clock, upload_settings);

  auth::JwtConfig jwt;
  jwt.hs256_secret = cfg.jwt_secret;
  jwt.jwks_file = cfg.jwt_jwks_file;
  jwt.jwks_url = cfg.jwt_jwks_url;
  jwt.issuer = cfg.jwt_issuer;
  jwt.audiences = cfg.jwt_audience;
  auth::TokenVerifier verifier(jwt, clock);

  api::ApiSettings api_settings;
  api_settings.cdn_base_url = cfg.cdn_base_url;
  api_settings.cors_origins = effective_cors_origins(cfg);
  api_settings.max_file_size = cfg.max_file_size;
  api_settings.openapi_yaml = std::string(openapi_document());
  api_settings.swagger_ui_js = swagger_ui_js();
  api_settings.swagger_ui_css = swagger_ui_css();
  api_settings.gallery_html = gallery_index_html();
  api_settings.gallery_js = gallery_app_js();
  api_settings.gallery_css = gallery_app_css();
  if (cfg.is_dev() && !cfg.jwt_secret.empty()) {
    api_settings.dev_token = [&cfg, &clock](const std::string& user) {
      return auth::mint_hs256(cfg.jwt_secret, user, auth::Role::User, 12 * 3600, clock.now_s(),
                              cfg.jwt_issuer,
                              cfg.jwt_audience.empty() ? "" : cfg.jwt_audience.front());
    };
  }
  api_settings.rate_limits = cfg.rate_limits;
  api_settings.erase_budget_ms = cfg.erase_budget_ms;
  // Reads of image records are served on the I/O threads only when nothing on their path can
  // wait on the network: SQLite, no Redis (cache or rate limits), no JWKS URL to fetch.
  api_settings.local_reads = cfg.metadata_backend == "sqlite" && !redis && cfg.jwt_jwks_url.empty();
  // Rate limits: in Redis when it is configured (shared by all instances), else in-process.
  std::unique_ptr<domain::RateLimiter> limiter;
  if (cfg.rate_limits.enabled) {
    if (redis)
      limiter = std::make_unique<cache::RedisRateLimiter>(*redis, cache_namespace(cfg));
    else
      limiter = std::make_unique<cache::TokenBuckets>();
  }
  std::vector<api::HealthCheck> health{{&metadata, true}, {&objects, true}};
  std::unique_ptr<RedisHealth> redis_health;
  if (redis)
    health.push_back({(redis_health = std::make_unique<RedisHealth>(*redis)).get(), false});
  std::unique_ptr<CdnHealth> cdn_health;
  if (purger) health.push_back({(cdn_health = std::make_unique<CdnHealth>(*purger)).get(), false});
  if (hook_delivery) health.push_back({hook_delivery.get(), false});
  std::vector<const obs::MetricsSource*> metric_sources{backends.engine_requests.get()};
  if (redis) metric_sources.push_back(redis.get());
  if (hook_delivery) metric_sources.push_back(hook_delivery.get());
  // Responsive variants (VARIANT_WIDTHS, VARIANT_FORMATS): made on first request from the main
  // image, on the processing pool, through the same image records and objects as everything else.
  domain::VariantSettings variant_settings;
  variant_settings.widths = cfg.variant_widths;
  variant_settings.formats.clear();
  for (const auto& f : cfg.variant_formats)
    variant_settings.formats.push_back(*domain::variant_format(f));
  variant_settings.main_max = limits.main_max;
  std::unique_ptr<domain::Variants> variants;
  if (!variant_settings.formats.empty())
    variants = std::make_unique<domain::Variants>(image_records, objects, processor, cpu, metrics,
                                                  variant_settings);

  api::HttpApp app(
      api::ApiDeps{images, uploads, idempotent, metadata, objects, file_cache, verifier, metrics,
                   log, clock, std::move(health), s3_urls ? nullptr : &service_urls, limiter.get(),
                   &cpu, &admission, std::move(metric_sources), variants.get()},
      api_settings);

  http::ServerOptions opts;
  opts.host = cfg.host;
  opts.port = cfg.port;
  opts.io_threads = cfg.io_threads;
  // An upload waiting for a processing thread blocks its handler thread: each slot gets a thread
  // of its own so that WORKER_THREADS stay free for everything else.
  opts.worker_threads = cfg.worker_threads + admission.slots();
  opts.max_connections = cfg.max_connections;
  opts.max_connections_per_client = cfg.max_connections_per_client;
  opts.probe_connections = cfg.probe_connections;
  opts.header_timeout_s = cfg.header_timeout_s;
  opts.body_timeout_s = cfg.body_timeout_s;
  opts.body_idle_timeout_s = cfg.body_idle_timeout_s;
  opts.min_body_rate_bps = cfg.min_body_rate;
  opts.idle_timeout_s = cfg.idle_timeout_s;
  opts.write_timeout_s = cfg.write_timeout_s;
  opts.drain_timeout_s = cfg.drain_timeout_s;
  opts.tls = tls;
  opts.tls_handshake_timeout_s = cfg.tls_handshake_timeout_s;
  http::Server server(opts, app);
  uint16_t port = server.listen();
  std::string own_url =
      std::string(tls ? "https://" : "http://") + cfg.host + ":" + std::to_string(port);
  if (!cfg.cdn_base_url_explicit) app.set_cdn_base_url(own_url + "/files");
  if (cfg.public_base_url.empty()) service_urls.set_base_url(own_url);
  app_for_events = &app;
  if (hook_delivery) hook_delivery->start();

  // Embedded mode's janitor: uncompleted direct uploads lapse after 24 h (S3 has a lifecycle
  // rule for temp/ instead).
  // Idempotency keys older than 24 h go in the janitor's sweep (DynamoDB's TTL removes them too;
  // the sweep covers engines without TTL, and as it is a scan there it runs hourly).
  int64_t last_idempotency_sweep_ms = 0;
  Janitor janitor(cfg.janitor_interval_s, [&] {
    int64_t now = clock.now_ms();
    if (!backends.dynamo || now - last_idempotency_sweep_ms > 3600 * 1000) {
      last_idempotency_sweep_ms = now;
      try {
        if (auto n = metadata.remove_expired_idempotency(now))
          log.info("janitor_swept", {{"idempotencyKeys", n}});
      } catch (const std::exception& e) {
        log.warn("janitor_failed", {{"what", e.what()}});
      }
    }
    if (backends.s3) return;
    try {
      auto swept = uploads.sweep();
      if (swept.objects || swept.records)
        log.info("janitor_swept",
                 {{"tempObjects", swept.objects}, {"uploadRecords", swept.records}});
    } catch (const std::exception& e) {
      log.warn("janitor_failed", {{"what", e.what()}});
    }
  });

  // The orphan and dangling counts as metrics: a report-only fsck every FSCK_INTERVAL_S (a full
  // scan of the metadata and a listing of the objects, so hourly by default).
  std::unique_ptr<Janitor> checker;
  if (cfg.fsck_interval_s > 0)
    checker = std::make_unique<Janitor>(
        cfg.fsck_interval_s,
        [&] {
          try {
            domain::FsckOptions fo;
            fo.grace_ms = int64_t(cfg.fsck_grace_s) * 1000;
            auto r = domain::run_fsck({image_records, metadata, metadata, objects}, clock, fo);
            metrics.orphaned_objects.store(r.orphans);
            metrics.dangling_records.store(r.dangling);
            metrics.last_fsck_ms.store(clock.now_ms());
            if (r.orphans || r.dangling)
              log.warn("consistency_check",
                       {{"orphans", r.orphans}, {"dangling", r.dangling}, {"checked", r.checked}});
          } catch (const std::exception& e) {
            log.warn("consistency_check_failed", {{"what", e.what()}});
          }
        },
        /*wait_first=*/true);

  std::unique_ptr<Janitor> cache_healer;
  if (cached_metadata)
    cache_healer = std::make_unique<Janitor>(1, [&] { cached_metadata->heal(); });

  std::thread signal_waiter([&] {
    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
      if (!tls) continue;
      // New connections get the new context; open ones keep theirs (shared_ptr) until they close.
      try {
        tls->reload();
        log.info("tls_reloaded", {{"sha256", tls->fingerprint()}, {"notAfter", tls->not_after()}});
      } catch (const std::exception& e) {
        log.error("tls_reload_failed", {{"what", e.what()}});
      }
    }
    sd_notify(cfg.notify_socket, "STOPPING=1");
    log.info("shutdown_requested", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    server.stop();
  });

  log.info("listening", {{"host", cfg.host},
                         {"port", port},
                         {"url", own_url},
                         {"tls", bool(tls)},
                         {"stage", cfg.stage},
                         {"dataDir", cfg.data_dir},
                         {"metadata", metadata.name()},
                         {"objects", objects.name()},
                         {"devSecret", dev_secret}});
  if (tls)
    log.info("tls_certificate", {{"sha256", tls->fingerprint()}, {"notAfter", tls->not_after()}});
  sd_notify(cfg.notify_socket,
            "READY=1\nSTATUS=listening on " + own_url + "\nMAINPID=" + std::to_string(::getpid()));
  server.run();
  if (hook_delivery) hook_delivery->stop();  // after its current send; the rest stay in the outbox
  log.info("stopped", {{"inFlight", server.in_flight_requests()}});
  // The waiter is parked in sigwait when the server stopped for another reason; wake it.
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  return 0;
}

}  // namespace isvc::app
