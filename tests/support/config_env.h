// Settings as the environment would give them, for the tests of app/config: an EnvLookup over a
// map, and the start-up error a set of settings produces ("" when they load).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "app/config.h"

namespace isvc::app::test_env {

inline EnvLookup env(std::map<std::string, std::string> m) {
  return [m = std::move(m)](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

inline std::string error_of(std::map<std::string, std::string> m) {
  try {
    load_config(env(std::move(m)));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace isvc::app::test_env
