// Settings from a `--config` file (the KEY=value format systemd's EnvironmentFile= reads) layered
// under the environment, and `X_FILE` indirection for any setting X (secrets kept out of both).
#pragma once

#include <map>
#include <string>

#include "app/config.h"

namespace isvc::app {

struct FileSetting {
  std::string value;
  int line = 0;
};

// Parses the file: `#`/`;` comments, blank lines, KEY=value with the value optionally in single
// (literal) or double quotes (\\ \" \$ \` escapes). Throws ConfigError naming the file and line.
std::map<std::string, FileSetting> read_config_file(const std::string& path);

// load_config() over: the environment, then the file (config_path, optional). A setting X may be
// given as X_FILE (the named file's contents, final newline stripped) in either. Unknown keys in
// the file and bad values stop start-up with the key and, for the file's, its line.
Config load_settings(const std::string& config_path, const EnvLookup& env);

}  // namespace isvc::app
