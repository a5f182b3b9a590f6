#include "domain/fsck.h"

#include <set>
#include <unordered_map>
#include <unordered_set>

#include "domain/model/error.h"
#include "domain/model/object_keys.h"
#include "domain/model/upload_record.h"
#include "domain/ulid.h"
#include "domain/variants.h"

namespace isvc::domain {

namespace {

// The image id in a key this service wrote (images/{user}/{id}.webp or
// images/{user}/thumbnails/{id}.webp), or "" for any other key.
std::string image_id_of(const std::string& key) {
  auto slash = key.rfind('/');
  if (slash == std::string::npos || !key.ends_with(".webp")) return "";
  auto id = key.substr(slash + 1, key.size() - slash - 1 - 5);
  return is_image_id(id) ? id : "";
}

bool refers_to(const ImageRecord& r, const std::string& key) {
  return r.s3_key == key || (r.thumbnail_key && *r.thumbnail_key == key);
}

}  // namespace

FsckReport run_fsck(const FsckPorts& ports, const Clock& clock, const FsckOptions& o) {
  auto& images = ports.images;
  auto& objects = ports.objects;
  FsckReport rep;
  int64_t now = clock.now_ms();

  // 1. Records first: objects are written before their record and a delete hides the record
  //    before removing objects, so anything that looks wrong below is re-checked before it counts.
  std::unordered_map<std::string, std::string> referenced;  // key → the first user seen with it
  std::set<std::string> shared;
  std::vector<ImageRecord> suspects, pending;
  auto refer = [&](const std::string& key, const std::string& user) {
    auto [it, added] = referenced.emplace(key, user);
    if (!added && it->second != user) shared.insert(key);
  };
  // Variants are not named in their record: one belongs to the record of its image id (any
  // state: finishing a delete removes them) whose owner's folder it is in.
  std::unordered_map<std::string, std::string> owner_folder;  // image id → encoded user id
  auto variant_owned = [&](const VariantKey& v) {
    auto it = owner_folder.find(v.image_id);
    return it != owner_folder.end() && it->second == v.encoded_user;
  };
  ports.maintenance.scan([&](const ImageRecord& r) {
    ++rep.checked;
    owner_folder.emplace(r.id, encode_user_id_for_key(r.user_id));
    refer(r.s3_key, r.user_id);
    if (r.thumbnail_key) refer(*r.thumbnail_key, r.user_id);
    if (r.state == ImageState::Deleting)
      pending.push_back(r);
    else
      suspects.push_back(r);
    return true;
  });

  // 2. Objects under images/.
  std::unordered_map<std::string, int64_t> present;  // key → last modified
  objects.list("images/", [&](const std::string& key, const domain::ObjectInfo& info) {
    ++rep.objects;
    present.emplace(key, info.last_modified_ms);
    return true;
  });

  for (const auto& r : suspects) {
    bool main_ok = present.count(r.s3_key) > 0;
    bool thumb_ok = !r.thumbnail_key || present.count(*r.thumbnail_key) > 0;
    if (main_ok && thumb_ok) continue;
    // Still active now, and really missing (not just uploaded after the listing)?
    auto cur = images.get(r.id);
    if (!cur || cur->state != ImageState::Active) continue;
    bool missing =
        !objects.head(cur->s3_key) || (cur->thumbnail_key && !objects.head(*cur->thumbnail_key));
    if (!missing) continue;
    ++rep.dangling;
    if (rep.dangling_ids.size() < o.max_listed) rep.dangling_ids.push_back(r.id);
  }

  for (const auto& [key, modified] : present) {
    if (referenced.count(key)) continue;
    auto variant = parse_variant_key(key);
    if (variant && variant_owned(*variant)) continue;
    if (modified >= now - o.grace_ms) continue;  // probably an upload whose record is on its way
    // A record created after the scan may own it.
    if (variant) {
      if (auto r = images.get(variant->image_id);
          r && encode_user_id_for_key(r->user_id) == variant->encoded_user)
        continue;
    } else if (auto id = image_id_of(key); !id.empty()) {
      if (auto r = images.get(id); r && refers_to(*r, key)) continue;
    }
    ++rep.orphans;
    if (rep.orphan_keys.size() < o.max_listed) rep.orphan_keys.push_back(key);
    if (o.repair) {
      objects.remove(key);
      ++rep.repaired;
    }
  }

  // 3. Deletes that stopped half-way: finish them (the same steps as DELETE /images/{id}).
  for (const auto& r : pending) {
    auto cur = images.get(r.id);
    if (!cur || cur->state != ImageState::Deleting) continue;
    ++rep.pending_deletes;
    if (o.repair) {
      remove_image_objects(objects, *cur);
      images.remove(cur->id);
      ++rep.repaired;
    }
  }

  // Objects that images of several users point at (imports from before the ownership checks):
  // deleting one user's image would remove another's bytes. Reported, never repaired.
  rep.shared_keys = int64_t(shared.size());
  for (const auto& k : shared) {
    if (rep.shared_key_list.size() >= o.max_listed) break;
    rep.shared_key_list.push_back(k);
  }

  // 4. Direct uploads that were never completed.
  std::vector<std::string> lapsed;
  objects.list("temp/", [&](const std::string& key, const domain::ObjectInfo& info) {
    if (info.last_modified_ms < now - o.upload_ttl_ms) lapsed.push_back(key);
    return true;
  });
  rep.lapsed_uploads = int64_t(lapsed.size());
  if (o.repair) {
    for (const auto& k : lapsed) objects.remove(k);
    rep.repaired += int64_t(lapsed.size());
    ports.uploads.remove_expired_uploads(now);
  }

  // 5. Counters.
  rep.counter_drift = ports.maintenance.check_counters(o.repair);
  if (o.repair) rep.repaired += rep.counter_drift;
  return rep;
}

}  // namespace isvc::domain
