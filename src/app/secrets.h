// Secrets the service derives or persists at start-up: the dev JWT secret (STAGE=dev only) and
// the cursor-signing secret.
#pragma once

#include <string>

#include "app/config.h"

namespace isvc::app {

// Reads DATA_DIR/<name>, or creates it (0600) with 32 random bytes, hex-encoded.
std::string load_or_create_secret(const std::string& data_dir, const std::string& name);

// Fills cfg.jwt_secret in dev when no auth is configured, and cfg.cursor_secret when unset.
// Returns true when a dev JWT secret was generated or loaded from DATA_DIR.
bool resolve_secrets(Config& cfg);

}  // namespace isvc::app
