// The OpenAPI document (openapi/openapi.yaml), embedded into the binary at build time so
// /api-docs always serves the document of the running version.
#pragma once

#include <string_view>

namespace isvc::app {
std::string_view openapi_document();
// Swagger UI's bundle and stylesheet (npm swagger-ui-dist), for /swagger.
std::string_view swagger_ui_js();
std::string_view swagger_ui_css();
// The browser gallery (web/gallery), for / and /gallery/{asset}.
std::string_view gallery_index_html();
std::string_view gallery_app_js();
std::string_view gallery_app_css();
}  // namespace isvc::app
