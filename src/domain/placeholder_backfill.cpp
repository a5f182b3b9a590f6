#include "domain/placeholder_backfill.h"

#include "base/encoding.h"
#include "domain/model/error.h"

namespace isvc::domain {

namespace {

bool lacks_placeholders(const ImageRecord& r) {
  return r.state == ImageState::Active && !r.thumbhash;
}

void note(std::vector<std::string>& list, const std::string& id, std::size_t max) {
  if (list.size() < max) list.push_back(id);
}

}  // namespace

BackfillReport run_placeholder_backfill(const BackfillPorts& ports, const BackfillOptions& o) {
  BackfillReport rep;
  // Ids first, work after: no write happens while the store's scan is paging.
  std::vector<std::string> ids;
  ports.maintenance.scan([&](const ImageRecord& r) {
    ++rep.scanned;
    if (lacks_placeholders(r)) ids.push_back(r.id);
    return true;
  });
  rep.lacking = int64_t(ids.size());

  int64_t looked = 0;
  for (const auto& id : ids) {
    if (o.limit && looked >= *o.limit) {
      rep.left = rep.lacking - looked;
      break;
    }
    ++looked;
    auto cur = ports.images.get(id);  // as it is now: deleted, edited or done since the scan?
    if (!cur || !lacks_placeholders(*cur)) continue;
    auto info = ports.objects.head(cur->s3_key);
    if (!info) {
      ++rep.no_source;
      note(rep.no_source_ids, id, o.max_listed);
      continue;
    }
    if (info->size > o.max_object_bytes) {
      ++rep.failed;
      note(rep.failed_ids, id, o.max_listed);
      continue;
    }
    auto data = ports.objects.get(cur->s3_key);
    if (!data) {  // removed since the head
      ++rep.no_source;
      note(rep.no_source_ids, id, o.max_listed);
      continue;
    }
    Placeholders p;
    try {
      p = ports.processor.placeholders(data->bytes, {"backfill-" + id});
    } catch (const Error& e) {
      if (e.code() == ErrorCode::Unavailable || e.code() == ErrorCode::StorageFailed) throw;
      ++rep.failed;  // not decodable as an image this service accepts: an operator looks
      note(rep.failed_ids, id, o.max_listed);
      continue;
    }
    if (o.dry_run) {
      ++rep.filled;
      continue;
    }
    ImageRecord next = *cur;
    next.thumbhash = base::base64_encode(p.thumbhash);
    next.dominant_color = p.dominant_color;
    // Derived data, not an edit: updatedAt stays (a later import of an older legacy edit must
    // still win), the version moves so that caches and ETags change.
    next.version = cur->version + 1;
    auto w = ports.images.update(next, cur->version);
    if (w.ok())
      ++rep.filled;
    else
      ++rep.conflicts;  // edited, deleted or re-keyed meanwhile: judged again next run
  }
  return rep;
}

}  // namespace isvc::domain
