#include "cache/redis_metadata_cache.h"

#include <boost/json.hpp>
#include <set>

#include "base/crypto.h"
#include "base/encoding.h"
#include "domain/model/record_codec.h"

namespace isvc::cache {

namespace json = boost::json;
using domain::ImageRecord;
using domain::ImageState;

namespace {

constexpr const char* kTombstoneVersion = "4503599627370496";  // 2^52: above any real version

// GET under the current epoch.
constexpr const char* kGetScript = R"LUA(
local e = redis.call('GET', '@NS@epoch') or '0'
return redis.call('GET', '@NS@' .. e .. ':' .. KEYS[1]))LUA";

// SET "version|payload" unless what is cached already has this version or a newer one.
constexpr const char* kSetVersionedScript = R"LUA(
local e = redis.call('GET', '@NS@epoch') or '0'
local k = '@NS@' .. e .. ':' .. KEYS[1]
local c = redis.call('GET', k)
if c then
  local v = tonumber(string.match(c, '^(%d+)|'))
  if v and v >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', k, ARGV[2] .. '|' .. ARGV[1], 'EX', ARGV[3])
return 1)LUA";

// {epoch, generation, cached value or ''} for one of a user's list/count keys.
constexpr const char* kListGetScript = R"LUA(
local e = redis.call('GET', '@NS@epoch') or '0'
local g = redis.call('GET', '@NS@' .. e .. ':gen:' .. KEYS[1]) or '0'
local v = redis.call('GET', '@NS@' .. e .. ':list:' .. KEYS[1] .. ':' .. g .. ':' .. ARGV[1])
return {e, g, v or ''})LUA";

// Stores a list/count value under the epoch and generation the reader saw, in the tag set.
constexpr const char* kListSetScript = R"LUA(
local k = '@NS@' .. ARGV[1] .. ':list:' .. KEYS[1] .. ':' .. ARGV[2] .. ':' .. ARGV[3]
redis.call('SET', k, ARGV[4], 'EX', ARGV[5])
local s = '@NS@' .. ARGV[1] .. ':keys:' .. KEYS[1]
redis.call('SADD', s, k)
redis.call('EXPIRE', s, ARGV[5])
return 1)LUA";

// A write to the user's images: new generation, and the tag set's keys deleted.
constexpr const char* kBumpScript = R"LUA(
local e = redis.call('GET', '@NS@epoch') or '0'
local g = '@NS@' .. e .. ':gen:' .. KEYS[1]
redis.call('INCR', g)
redis.call('EXPIRE', g, 86400)
local s = '@NS@' .. e .. ':keys:' .. KEYS[1]
local ks = redis.call('SMEMBERS', s)
for i = 1, #ks, 500 do redis.call('DEL', unpack(ks, i, math.min(i + 499, #ks))) end
redis.call('DEL', s)
return #ks)LUA";

// DEL of one key under the current epoch.
constexpr const char* kForgetScript = R"LUA(
local e = redis.call('GET', '@NS@epoch') or '0'
return redis.call('DEL', '@NS@' .. e .. ':' .. KEYS[1]))LUA";

std::string image_key(const std::string& id) {
  return "image:" + id;
}

std::string encode(const ImageRecord& r) {
  return domain::encode_record(r);
}

std::optional<ImageRecord> decode(std::string_view text) {
  return domain::decode_record(text);
}

std::string query_hash(const std::string& kind, const domain::ListQuery& q) {
  std::string s = kind + "\n" + (q.album_id ? "a" + *q.album_id : "-") + "\n" +
                  (q.tag ? "t" + *q.tag : "-") + "\n" + (q.ascending ? "asc" : "desc") + "\n" +
                  std::to_string(q.limit) + "\n" +
                  (q.after ? std::to_string(q.after->uploaded_at_ms) + "/" + q.after->id : "-") +
                  "\n" + (q.sort_by == domain::SortBy::TakenAt ? "taken" : "uploaded") + "\n" +
                  (q.sha256 ? "h" + *q.sha256 : "-");
  return base::hex_encode(base::sha256(s)).substr(0, 32);
}

}  // namespace

RedisMetadataCache::RedisMetadataCache(domain::ImageRepository& inner, RedisClient& redis,
                                       obs::ServiceMetrics& m, RedisCacheSettings s)
    : inner_(inner), redis_(redis, "metadata"), metrics_(m), s_(std::move(s)) {
  prefix_ = s_.key_namespace.empty() ? "isvc:" : "isvc:" + s_.key_namespace + ":";
  const char* templates[] = {kGetScript,     kSetVersionedScript, kListGetScript,
                             kListSetScript, kBumpScript,         kForgetScript};
  for (int i = 0; i < 6; ++i) {
    std::string text = templates[i];
    for (auto at = text.find("@NS@"); at != std::string::npos; at = text.find("@NS@", at))
      text.replace(at, 4, prefix_);
    scripts_[i] = std::move(text);
  }
}

void RedisMetadataCache::bump_epoch() {
  if (usable()) redis_.command({"INCR", prefix_ + "epoch"});
}

bool RedisMetadataCache::usable() {
  if (redis_.take_failure_flag()) dirty_ = true;
  if (!dirty_) return true;
  // Something this instance wrote to Redis may have been lost: start a new epoch (every key
  // becomes unreachable) before trusting the cache again.
  if (!redis_.command({"INCR", prefix_ + "epoch"})) return false;
  dirty_ = false;
  return true;
}

void RedisMetadataCache::put_record(const ImageRecord& rec) {
  if (!usable()) return;
  redis_.command({"EVAL", script(Script::SetVersioned), "1", image_key(rec.id), encode(rec),
                  std::to_string(rec.version), std::to_string(s_.image_ttl_s)});
}

void RedisMetadataCache::tombstone(const std::string& id) {
  if (!usable()) return;
  redis_.command({"EVAL", script(Script::SetVersioned), "1", image_key(id), "", kTombstoneVersion,
                  std::to_string(s_.image_ttl_s)});
}

void RedisMetadataCache::forget(const std::string& id) {
  if (!usable()) return;
  redis_.command({"EVAL", script(Script::Forget), "1", image_key(id)});
}

void RedisMetadataCache::bump_user(const std::string& user_id) {
  if (!usable()) return;
  redis_.command({"EVAL", script(Script::Bump), "1", user_id});
}

std::optional<RedisMetadataCache::Lookup> RedisMetadataCache::lookup(const std::string& user_id,
                                                                     const std::string& hash) {
  if (!usable()) return std::nullopt;
  auto r = redis_.command({"EVAL", script(Script::ListGet), "1", user_id, hash});
  if (!r || r->elements.size() != 3) return std::nullopt;
  Lookup l;
  l.epoch = r->elements[0].str;
  l.generation = r->elements[1].str;
  l.value = r->elements[2].str;
  l.hit = !l.value.empty();
  return l;
}

void RedisMetadataCache::store(const std::string& user_id, const Lookup& at,
                               const std::string& hash, const std::string& value) {
  redis_.command({"EVAL", script(Script::ListSet), "1", user_id, at.epoch, at.generation, hash,
                  value, std::to_string(s_.list_ttl_s)});
}

// Every write invalidates before it changes the store as well as after: if the process dies in
// between (kill -9), nothing it was about to change stays cached. (The entries written after the
// store are what a crash can lose; those before make sure there is nothing stale to lose.)
domain::WriteResult RedisMetadataCache::insert(const ImageRecord& rec,
                                               const domain::Events& events) {
  bump_user(rec.user_id);
  auto w = inner_.insert(rec, events);
  bump_user(rec.user_id);
  return w;
}

std::optional<ImageRecord> RedisMetadataCache::get(const std::string& id) {
  if (usable()) {
    if (auto r = redis_.command({"EVAL", script(Script::Get), "1", image_key(id)});
        r && r->type == RedisReply::Type::String) {
      auto bar = r->str.find('|');
      if (bar != std::string::npos && r->str.substr(0, bar) != kTombstoneVersion) {
        if (auto rec = decode(std::string_view(r->str).substr(bar + 1))) {
          metrics_.metadata_cache_hits.fetch_add(1);
          return rec;
        }
      }
    }
  }
  metrics_.metadata_cache_misses.fetch_add(1);
  auto rec = inner_.get(id);
  if (rec && rec->state == ImageState::Active) put_record(*rec);
  return rec;
}

domain::WriteResult RedisMetadataCache::update(const ImageRecord& rec, int64_t expected_version,
                                               const domain::Events& events) {
  forget(rec.id);
  bump_user(rec.user_id);
  auto w = inner_.update(rec, expected_version, events);
  if (w.ok()) {
    ImageRecord stored = rec;
    stored.state = ImageState::Active;
    put_record(stored);
  }
  bump_user(rec.user_id);
  return w;
}

void RedisMetadataCache::imported(const std::vector<ImageRecord>& records,
                                  const std::vector<domain::ImportOutcome>& out) {
  std::set<std::string> users;
  for (std::size_t i = 0; i < records.size() && i < out.size(); ++i) {
    if (out[i] != domain::ImportOutcome::Created && out[i] != domain::ImportOutcome::Updated)
      continue;  // nothing written
    users.insert(records[i].user_id);
    if (out[i] == domain::ImportOutcome::Updated)
      if (auto now = inner_.get(records[i].id); now && now->state == ImageState::Active)
        put_record(*now);
  }
  for (const auto& u : users) bump_user(u);
}

std::optional<ImageRecord> RedisMetadataCache::mark_deleting(const std::string& id,
                                                             const domain::Events& events) {
  tombstone(id);  // hidden from the cache first; a failed mark leaves only a cache miss
  auto r = inner_.mark_deleting(id, events);
  if (r) {
    tombstone(id);
    bump_user(r->user_id);
  }
  return r;
}

bool RedisMetadataCache::remove(const std::string& id) {
  auto cur = inner_.get(id);
  bool removed = inner_.remove(id);
  tombstone(id);
  if (cur) bump_user(cur->user_id);
  return removed;
}

std::optional<ImageRecord> RedisMetadataCache::mark_deleting_seen(const ImageRecord& seen,
                                                                  const domain::Events& events) {
  tombstone(seen.id);
  auto r = inner_.mark_deleting_seen(seen, events);
  if (r) {
    tombstone(seen.id);
    bump_user(r->user_id);
  }
  return r;
}

bool RedisMetadataCache::remove_seen(const ImageRecord& seen) {
  // No second read for the owner: once marked Deleting a record no longer changes (every write
  // needs it Active), so the owner seen is the owner.
  bool removed = inner_.remove_seen(seen);
  tombstone(seen.id);
  bump_user(seen.user_id);
  return removed;
}

domain::ListPage RedisMetadataCache::list(const domain::ListQuery& q) {
  if (q.state != ImageState::Active) return inner_.list(q);
  auto hash = query_hash("list", q);
  auto at = lookup(q.user_id, hash);
  if (at && at->hit) {
    boost::system::error_code ec;
    auto v = json::parse(at->value, ec);
    if (!ec && v.is_object()) {
      try {
        domain::ListPage page;
        page.has_more = v.at("hasMore").as_bool();
        for (const auto& it : v.at("items").as_array()) {
          auto rec = decode(it.as_string());
          if (!rec) throw std::runtime_error("bad cached record");
          page.items.push_back(std::move(*rec));
        }
        metrics_.metadata_cache_hits.fetch_add(1);
        return page;
      } catch (const std::exception&) {
        // fall through to the store
      }
    }
  }
  metrics_.metadata_cache_misses.fetch_add(1);
  auto page = inner_.list(q);
  if (at) {
    json::array items;
    for (const auto& r : page.items) items.emplace_back(encode(r));
    store(q.user_id, *at, hash,
          json::serialize(json::object{{"hasMore", page.has_more}, {"items", std::move(items)}}));
  }
  return page;
}

int64_t RedisMetadataCache::count(const domain::ListQuery& query) {
  if (query.state != ImageState::Active) return inner_.count(query);
  domain::ListQuery q;
  q.user_id = query.user_id;
  q.album_id = query.album_id;
  q.tag = query.tag;
  q.sha256 = query.sha256;
  q.limit = 0;
  auto hash = query_hash("count", q);
  auto at = lookup(q.user_id, hash);
  if (at && at->hit && at->value.find_first_not_of("0123456789") == std::string::npos) {
    metrics_.metadata_cache_hits.fetch_add(1);
    return std::stoll(at->value);
  }
  metrics_.metadata_cache_misses.fetch_add(1);
  int64_t n = inner_.count(q);
  if (at) store(q.user_id, *at, hash, std::to_string(n));
  return n;
}

}  // namespace isvc::cache
