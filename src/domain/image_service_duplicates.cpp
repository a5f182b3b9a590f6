// ImageService's duplicate lookups (SPEC issue 14, docs/exif.md "Duplicates"): a user's images
// whose originals had the same SHA-256, on the stores' (user, hash) index. Never across users.
#include "domain/image_service.h"

namespace isvc::domain {

std::optional<std::string> ImageService::duplicate_of(const ImageRecord& rec) {
  if (!rec.sha256) return std::nullopt;
  ListQuery q;
  q.user_id = rec.user_id;
  q.sha256 = rec.sha256;
  q.ascending = true;
  q.limit = 1;
  auto page = d_.images.list(q);
  if (page.items.empty() || page.items.front().id == rec.id) return std::nullopt;
  const auto& first = page.items.front();
  // Only an image uploaded before this one: a later copy is not what this one duplicates.
  if (std::tie(first.uploaded_at_ms, first.id) > std::tie(rec.uploaded_at_ms, rec.id))
    return std::nullopt;
  return first.id;
}

ListResult ImageService::list_duplicates(const Caller& caller, const ListRequest& req) {
  if (req.album_id || req.tag || req.sort_by != SortBy::UploadedAt)
    throw Error::validation("duplicatesOf",
                            "duplicatesOf cannot be combined with albumId, tag or sortBy");
  // The image must be the caller's: another user's id is 404 like GET /images/{id}, so the
  // listing reveals nothing about other users' files.
  ImageRecord target = get(caller, *req.duplicates_of);
  CursorScope scope{caller.user_id, std::nullopt,       std::nullopt,
                    req.ascending,  SortBy::UploadedAt, req.duplicates_of};
  ListResult out;
  out.limit = req.limit;
  std::optional<ListPosition> after;
  if (req.cursor) after = d_.cursors.decode(*req.cursor, scope);
  if (!target.sha256) return out;
  ListQuery q;
  q.user_id = target.user_id;  // the owner's copies, also when an admin asks
  q.sha256 = target.sha256;
  q.ascending = req.ascending;
  q.limit = req.limit + 1;  // one more: the target itself may be among them
  q.after = after;
  auto page = d_.images.list(q);
  std::vector<ImageRecord> others;
  for (auto& r : page.items)
    if (r.id != target.id) others.push_back(std::move(r));
  out.has_more = int(others.size()) > req.limit || (page.has_more && !others.empty());
  if (int(others.size()) > req.limit) others.resize(std::size_t(req.limit));
  if (out.has_more && !others.empty())
    out.next_cursor = d_.cursors.encode({others.back().uploaded_at_ms, others.back().id}, scope);
  out.images = std::move(others);
  q.after.reset();
  out.total_count = std::max<int64_t>(0, d_.images.count(q) - 1);
  return out;
}

}  // namespace isvc::domain
