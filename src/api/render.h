// Renders domain values in the API's JSON shapes (SPEC §2 image object, list page, error body).
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "domain/image_service.h"
#include "domain/model/error.h"
#include "domain/model/image_record.h"
#include "domain/variants.h"
#include "http/message.h"

namespace isvc::api {

// With `variants` (null when they are off), the image object carries its responsive variants
// ({width, height, format, url}, by format then width) and a ready `srcset` string per format.
// `duplicate_of` (an upload's answer only): the owner's earlier image with the same bytes.
std::string render_image(const domain::ImageRecord& rec, const std::string& cdn_base_url,
                         const domain::VariantSettings* variants = nullptr,
                         const std::optional<std::string>& duplicate_of = std::nullopt);
std::string render_list(const domain::ListResult& page, const std::string& cdn_base_url,
                        const domain::VariantSettings* variants = nullptr);
std::string render_error(const domain::Error& err, const std::string& request_id);

// A request body that must be a JSON object, nested at most `max_depth` deep; anything else is
// 400 BAD_REQUEST.
boost::json::object parse_json_object(std::string_view text, int max_depth);

// A response with a JSON body.
http::Response json_response(int status, std::string body);

// "45.6 GB" style (1024-based units, one decimal).
std::string human_bytes(int64_t bytes);

}  // namespace isvc::api
