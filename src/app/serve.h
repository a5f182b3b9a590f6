// `image-service serve`: wires configuration, stores, pipeline, auth and the HTTP server, runs
// until SIGTERM/SIGINT, then drains and returns 0.
#pragma once

#include <string>

namespace isvc::app {
// config_path: the --config file, or empty.
int serve_command(const std::string& config_path);
}  // namespace isvc::app
