#include "migrate/verify.h"

#include <boost/json.hpp>
#include <chrono>
#include <unordered_map>

#include "base/time_format.h"
#include "domain/ulid.h"
#include "domain/validation.h"
#include "migrate/legacy_mapping.h"

namespace isvc::migrate {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The id as the legacy table holds it.
std::string legacy_id(const std::string& id) {
  return domain::is_ulid(id) ? ulid_to_uuid(id) : lower(id);
}

std::string opt(const std::optional<std::string>& v) {
  return v ? *v : "<null>";
}

std::string tags_text(const std::vector<std::string>& tags) {
  boost::json::array a;
  for (const auto& t : tags) a.emplace_back(t);
  return boost::json::serialize(a);
}

void compare(const domain::ImageRecord& l, const domain::ImageRecord& s,
             std::vector<Mismatch>& out) {
  auto field = [&](const char* name, const std::string& a, const std::string& b) {
    if (a != b) out.push_back({l.id, "field", name, a, b});
  };
  field("userId", l.user_id, s.user_id);
  field("s3Key", l.s3_key, s.s3_key);
  field("thumbnailKey", opt(l.thumbnail_key), opt(s.thumbnail_key));
  field("originalFilename", l.original_filename, s.original_filename);
  field("title", opt(l.title), opt(s.title));
  field("description", opt(l.description), opt(s.description));
  field("altText", opt(l.alt_text), opt(s.alt_text));
  field("tags", tags_text(l.tags), tags_text(s.tags));
  field("albumId", opt(l.album_id), opt(s.album_id));
  field("createdAt", base::format_iso8601_ms(l.created_at_ms),
        base::format_iso8601_ms(s.created_at_ms));
}

}  // namespace

VerifyReport run_verify(LegacyTable& legacy, domain::ImageRepository& images,
                        domain::ImageMaintenance& maintenance, std::optional<int64_t> since_ms) {
  auto started = std::chrono::steady_clock::now();
  VerifyReport rep;
  std::unordered_map<std::string, domain::ImageRecord> expected;  // legacy id → mapped row
  std::optional<KeysetPosition> after;
  for (;;) {
    auto rows = legacy.page(after, since_ms, 2000);
    if (rows.empty()) break;
    for (const auto& row : rows) {
      ++rep.legacy_rows;
      std::string why;
      if (auto rec = map_row(row, "", why))
        expected.emplace(lower(row.id), std::move(*rec));
      else
        ++rep.unmappable;
    }
    after = KeysetPosition{rows.back().created_at_key, rows.back().id};
  }

  auto in_window = [&](const domain::ImageRecord& r) {
    return !since_ms || r.created_at_ms >= *since_ms || r.updated_at_ms >= *since_ms;
  };
  std::vector<domain::ImageRecord> unmatched;  // in the service's window, not the legacy one
  maintenance.scan([&](const domain::ImageRecord& s) {
    if (s.state != domain::ImageState::Active) return true;
    auto it = expected.find(legacy_id(s.id));
    if (it == expected.end()) {
      if (!in_window(s)) return true;
      ++rep.service_records;
      if (since_ms)
        unmatched.push_back(s);
      else
        rep.mismatches.push_back({s.id, "missing_in_legacy", "", "", ""});
      return true;
    }
    ++rep.service_records;
    ++rep.compared;
    compare(it->second, s, rep.mismatches);
    expected.erase(it);
    return true;
  });
  // Recently changed in the service only: the legacy row may be older than the window.
  for (std::size_t i = 0; i < unmatched.size(); i += 1000) {
    std::vector<std::string> ids;
    for (std::size_t j = i; j < std::min(unmatched.size(), i + 1000); ++j)
      ids.push_back(legacy_id(unmatched[j].id));
    std::unordered_map<std::string, domain::ImageRecord> found;
    for (const auto& row : legacy.by_ids(ids)) {
      std::string why;
      if (auto rec = map_row(row, "", why)) found.emplace(lower(row.id), std::move(*rec));
    }
    for (std::size_t j = i; j < std::min(unmatched.size(), i + 1000); ++j) {
      const auto& s = unmatched[j];
      auto it = found.find(legacy_id(s.id));
      if (it == found.end()) {
        rep.mismatches.push_back({s.id, "missing_in_legacy", "", "", ""});
      } else {
        ++rep.compared;
        compare(it->second, s, rep.mismatches);
      }
    }
  }
  // What the window holds on the legacy side but the scan did not meet.
  for (const auto& [id, rec] : expected) {
    if (since_ms) {  // outside the service's window is fine, as long as it exists and agrees
      if (auto s = images.get(rec.id); s && s->state == domain::ImageState::Active) {
        ++rep.compared;
        compare(rec, *s, rep.mismatches);
        continue;
      }
    }
    rep.mismatches.push_back({rec.id, "missing_in_service", "", "", ""});
  }
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return rep;
}

std::string report_json(const VerifyReport& r) {
  boost::json::array mm;
  for (const auto& m : r.mismatches) {
    boost::json::object o{{"id", m.id}, {"kind", m.kind}};
    if (m.kind == "field") {
      o["field"] = m.field;
      o["legacy"] = m.legacy;
      o["service"] = m.service;
    }
    mm.push_back(std::move(o));
  }
  return boost::json::serialize(boost::json::object{{"legacyRows", r.legacy_rows},
                                                    {"serviceRecords", r.service_records},
                                                    {"compared", r.compared},
                                                    {"unmappable", r.unmappable},
                                                    {"mismatchCount", int64_t(r.mismatches.size())},
                                                    {"mismatches", std::move(mm)}});
}

}  // namespace isvc::migrate
