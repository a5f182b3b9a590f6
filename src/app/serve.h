// `image-service serve`: wires configuration, stores, pipeline, auth and the HTTP server, runs
// until SIGTERM/SIGINT, then drains and returns 0.
#pragma once

namespace isvc::app {
int serve_command();
}
