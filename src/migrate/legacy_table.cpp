#include "migrate/legacy_table.h"

#include <pqxx/pqxx>
#include <stdexcept>

namespace isvc::migrate {

namespace {

constexpr const char* kColumns =
    "id::text, user_id::text, album_id::text, original_filename, mime_type, file_size, width, "
    "height, s3_key, thumbnail_key, title, description, alt_text, tags::text, "
    "(extract(epoch from created_at) * 1000)::bigint, "
    "(extract(epoch from updated_at) * 1000)::bigint, created_at::text";

std::optional<std::string> opt_text(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str());
}
std::optional<int64_t> opt_int(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int64_t>();
}

LegacyRow read_row(const pqxx::row& r) {
  LegacyRow row;
  row.id = r[0].c_str();
  row.user_id = r[1].c_str();
  row.album_id = opt_text(r[2]);
  row.original_filename = r[3].c_str();
  row.mime_type = r[4].c_str();
  row.file_size = r[5].as<int64_t>();
  row.width = opt_int(r[6]);
  row.height = opt_int(r[7]);
  row.s3_key = r[8].c_str();
  row.thumbnail_key = opt_text(r[9]);
  row.title = opt_text(r[10]);
  row.description = opt_text(r[11]);
  row.alt_text = opt_text(r[12]);
  row.tags_json = opt_text(r[13]);
  row.created_at_ms = opt_int(r[14]);
  row.updated_at_ms = opt_int(r[15]);
  row.created_at_key = r[16].is_null() ? "" : r[16].c_str();
  return row;
}

}  // namespace

struct LegacyTable::Impl {
  std::unique_ptr<pqxx::connection> conn;
};

LegacyTable::LegacyTable(const std::string& url) : impl_(std::make_unique<Impl>()) {
  try {
    impl_->conn = std::make_unique<pqxx::connection>(url);
    pqxx::nontransaction t(*impl_->conn);
    t.exec("SET TIME ZONE 'UTC'");
    t.exec("SET DateStyle = 'ISO'");
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot connect to the legacy database: ") + e.what());
  }
}

LegacyTable::~LegacyTable() = default;

std::vector<LegacyRow> LegacyTable::page(const std::optional<KeysetPosition>& after,
                                         std::optional<int64_t> since_ms, int limit) {
  // Rows with a created_at in (created_at, id) order (served by an index on (created_at, id)),
  // then rows without one in id order (KeysetPosition::created_at empty). The time window is a
  // separate statement so that the planner keeps the index walk when there is none.
  pqxx::read_transaction t(*impl_->conn);
  const std::string window =
      " AND (created_at >= to_timestamp($4::bigint / 1000.0) OR "
      "updated_at >= to_timestamp($4::bigint / 1000.0))";
  auto run = [&](const std::string& where, const std::string& order, const std::string& p1,
                 const std::string& p2, int n) {
    std::string sql = std::string("SELECT ") + kColumns + " FROM gallery_images WHERE " + where +
                      (since_ms ? window : "") + " ORDER BY " + order + " LIMIT $3";
    return since_ms ? t.exec_params(sql, p1, p2, n, *since_ms) : t.exec_params(sql, p1, p2, n);
  };
  const std::string zero = "00000000-0000-0000-0000-000000000000";
  std::vector<LegacyRow> out;
  if (!after || !after->created_at.empty()) {
    auto res =
        run("created_at IS NOT NULL AND (created_at, id) > ($1::timestamptz, $2::uuid)",
            // Qualified: the select list's text casts are also named created_at and id.
            "gallery_images.created_at, gallery_images.id",
            after ? after->created_at : std::string("-infinity"), after ? after->id : zero, limit);
    for (const auto& r : res) out.push_back(read_row(r));
    if (int(out.size()) == limit) return out;
  }
  bool first_undated = !after || !after->created_at.empty();
  auto res = run("created_at IS NULL AND (id > $1::uuid OR ($2::boolean AND id = $1::uuid))",
                 "gallery_images.id", first_undated ? zero : after->id,
                 first_undated ? "true" : "false", limit - int(out.size()));
  for (const auto& r : res) out.push_back(read_row(r));
  return out;
}

int64_t LegacyTable::count(std::optional<int64_t> since_ms) {
  pqxx::read_transaction t(*impl_->conn);
  if (!since_ms) return t.exec("SELECT count(*) FROM gallery_images")[0][0].as<int64_t>();
  return t
      .exec_params(
          "SELECT count(*) FROM gallery_images WHERE created_at >= to_timestamp($1::bigint / "
          "1000.0) OR updated_at >= to_timestamp($1::bigint / 1000.0)",
          *since_ms)[0][0]
      .as<int64_t>();
}

std::vector<LegacyRow> LegacyTable::by_ids(const std::vector<std::string>& ids) {
  std::string array = "{";
  for (const auto& id : ids) {
    if (id.size() != 36 || id.find_first_not_of("0123456789abcdefABCDEF-") != std::string::npos)
      continue;
    array += (array.size() > 1 ? "," : "") + id;
  }
  array += "}";
  pqxx::read_transaction t(*impl_->conn);
  auto res = t.exec_params(
      std::string("SELECT ") + kColumns + " FROM gallery_images WHERE id = ANY($1::uuid[])", array);
  std::vector<LegacyRow> out;
  for (const auto& r : res) out.push_back(read_row(r));
  return out;
}

void LegacyTable::upsert(const std::vector<LegacyRow>& rows) {
  pqxx::work t(*impl_->conn);
  for (const auto& r : rows) {
    t.exec_params(
        "INSERT INTO gallery_images (id, user_id, album_id, original_filename, mime_type, "
        "file_size, width, height, s3_key, thumbnail_key, title, description, alt_text, tags, "
        "created_at, updated_at) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9, "
        "$10, $11, $12, $13, $14::jsonb, to_timestamp($15::bigint / 1000.0), "
        "to_timestamp($16::bigint / 1000.0)) ON CONFLICT (id) DO UPDATE SET user_id = "
        "EXCLUDED.user_id, album_id = EXCLUDED.album_id, original_filename = "
        "EXCLUDED.original_filename, mime_type = EXCLUDED.mime_type, file_size = "
        "EXCLUDED.file_size, width = EXCLUDED.width, height = EXCLUDED.height, s3_key = "
        "EXCLUDED.s3_key, thumbnail_key = EXCLUDED.thumbnail_key, title = EXCLUDED.title, "
        "description = EXCLUDED.description, alt_text = EXCLUDED.alt_text, tags = EXCLUDED.tags, "
        "created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at",
        r.id, r.user_id, r.album_id, r.original_filename, r.mime_type, r.file_size, r.width,
        r.height, r.s3_key, r.thumbnail_key, r.title, r.description, r.alt_text, r.tags_json,
        r.created_at_ms.value_or(0), r.updated_at_ms.value_or(r.created_at_ms.value_or(0)));
  }
  t.commit();
}

}  // namespace isvc::migrate
