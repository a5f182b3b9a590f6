#include "cache/redis_client.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <stdexcept>

namespace isvc::cache {

namespace {

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::Int;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::String;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::Status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::Array;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::Nil;
  }
  return out;
}

}  // namespace

RedisEndpoint parse_redis_endpoint(const std::string& text) {
  RedisEndpoint ep;
  std::string rest = text;
  if (rest.rfind("rediss://", 0) == 0)
    throw std::invalid_argument("TLS (rediss://) is not supported by this build's hiredis");
  if (rest.rfind("redis://", 0) == 0) rest = rest.substr(8);
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    auto cred = rest.substr(0, at);
    auto colon = cred.find(':');
    ep.password = colon == std::string::npos ? cred : cred.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    auto db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty()) {
      if (db.find_first_not_of("0123456789") != std::string::npos || db.size() > 3)
        throw std::invalid_argument("bad database number '" + db + "'");
      ep.db = std::stoi(db);
    }
  }
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    auto port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument("bad port '" + port + "'");
    ep.port = std::stoi(port);
    if (ep.port < 1 || ep.port > 65535) throw std::invalid_argument("bad port '" + port + "'");
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) throw std::invalid_argument("missing host");
  ep.host = rest;
  return ep;
}

RedisClient::RedisClient(RedisEndpoint ep, int timeout_ms, int breaker_ms, int pool_size)
    : ep_(std::move(ep)), timeout_ms_(timeout_ms), breaker_(breaker_ms), pool_size_(pool_size) {}

RedisClient::~RedisClient() {
  for (auto* c : idle_) redisFree(c);
}

redisContext* RedisClient::acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto* c = idle_.back();
      idle_.pop_back();
      return c;
    }
  }
  timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
  redisContext* c = redisConnectWithTimeout(ep_.host.c_str(), ep_.port, tv);
  if (!c || c->err) {
    if (c) redisFree(c);
    return nullptr;
  }
  redisSetTimeout(c, tv);
  auto setup = [&](std::vector<std::string> args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r =
        static_cast<redisReply*>(redisCommandArgv(c, int(argv.size()), argv.data(), lens.data()));
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    if (r) freeReplyObject(r);
    return ok;
  };
  if ((!ep_.password.empty() && !setup({"AUTH", ep_.password})) ||
      (ep_.db != 0 && !setup({"SELECT", std::to_string(ep_.db)}))) {
    redisFree(c);
    return nullptr;
  }
  return c;
}

void RedisClient::release(redisContext* c, bool healthy) {
  if (healthy) {
    std::lock_guard lock(mu_);
    if (int(idle_.size()) < pool_size_) {
      idle_.push_back(c);
      return;
    }
  }
  redisFree(c);
}

RedisClient::Outcome RedisClient::execute(const std::vector<std::string>& args, RedisReply& reply) {
  redisContext* c = acquire();
  if (!c) return Outcome::Failed;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r =
      static_cast<redisReply*>(redisCommandArgv(c, int(argv.size()), argv.data(), lens.data()));
  if (!r) {  // I/O error or timeout: the connection is unusable
    release(c, false);
    return Outcome::Failed;
  }
  bool error = r->type == REDIS_REPLY_ERROR;
  reply = convert(r);
  freeReplyObject(r);
  release(c, true);
  return error ? Outcome::ErrorReply : Outcome::Ok;
}

bool RedisClient::ping() {
  RedisReply r;
  return execute({"PING"}, r) == Outcome::Ok && r.str == "PONG";
}

std::vector<RedisUseStatus> RedisClient::uses() const {
  std::lock_guard lock(uses_mu_);
  std::vector<RedisUseStatus> out;
  for (const auto* u : uses_) {
    auto s = u->status();
    auto same = std::find_if(out.begin(), out.end(), [&](auto& o) { return o.name == s.name; });
    if (same == out.end()) {
      out.push_back(std::move(s));
      continue;
    }
    // Several instances of one use (e.g. caches of two stores) are reported as one.
    same->circuit_open = same->circuit_open || s.circuit_open;
    same->last_ok = same->last_ok && s.last_ok;
    same->ok += s.ok;
    same->errors += s.errors;
    same->failures += s.failures;
    same->skipped += s.skipped;
  }
  return out;
}

RedisUse::RedisUse(RedisClient& client, std::string name) : client_(client) {
  status_.name = std::move(name);
  std::lock_guard lock(client_.uses_mu_);
  client_.uses_.push_back(this);
}

RedisUse::~RedisUse() {
  std::lock_guard lock(client_.uses_mu_);
  std::erase(client_.uses_, this);
}

std::optional<RedisReply> RedisUse::command(const std::vector<std::string>& args) {
  {
    std::lock_guard lock(mu_);
    if (std::chrono::steady_clock::now() < open_until_) {
      ++status_.skipped;
      failed_ = true;  // not sent is as good as lost
      return std::nullopt;
    }
  }
  RedisReply reply;
  auto outcome = client_.execute(args, reply);
  std::lock_guard lock(mu_);
  status_.last_ok = outcome == RedisClient::Outcome::Ok;
  switch (outcome) {
    case RedisClient::Outcome::Ok:
      ++status_.ok;
      return reply;
    case RedisClient::Outcome::ErrorReply:
      ++status_.errors;
      break;
    case RedisClient::Outcome::Failed:
      ++status_.failures;
      open_until_ = std::chrono::steady_clock::now() + client_.breaker_;
      break;
  }
  failed_ = true;
  return std::nullopt;
}

bool RedisUse::take_failure_flag() {
  std::lock_guard lock(mu_);
  bool f = failed_;
  failed_ = false;
  return f;
}

RedisUseStatus RedisUse::status() const {
  std::lock_guard lock(mu_);
  RedisUseStatus s = status_;
  s.circuit_open = std::chrono::steady_clock::now() < open_until_;
  return s;
}

void RedisClient::write_metrics(obs::TextWriter& w) const {
  if (auto all = uses(); !all.empty()) {
    std::vector<std::pair<obs::LabelValues, double>> commands, open, last;
    for (const auto& u : all) {
      for (auto [result, n] : {std::pair{"ok", u.ok}, std::pair{"error", u.errors},
                               std::pair{"failed", u.failures}, std::pair{"skipped", u.skipped}})
        commands.push_back({{u.name, result}, double(n)});
      open.push_back({{u.name}, u.circuit_open ? 1.0 : 0.0});
      last.push_back({{u.name}, u.last_ok ? 1.0 : 0.0});
    }
    w.family("isvc_redis_commands_total",
             "Redis commands by use (metadata: the cache, ratelimit: the shared limits) and "
             "outcome (error: Redis answered with an error; failed: unreachable or timed out; "
             "skipped: the use's circuit was open).",
             "counter", {"use", "result"}, commands);
    w.family("isvc_redis_circuit_open",
             "1 while a use of Redis skips it after a failure (REDIS_BREAKER_MS), each use on its "
             "own.",
             "gauge", {"use"}, open);
    w.family("isvc_redis_last_command_ok", "1 when the use's last Redis command succeeded.",
             "gauge", {"use"}, last);
  }
}

}  // namespace isvc::cache
