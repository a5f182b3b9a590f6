// The `image-service` command line: `serve` (default), `token`, `version`.
#pragma once

namespace isvc::app {
int run_cli(int argc, char** argv);
}
