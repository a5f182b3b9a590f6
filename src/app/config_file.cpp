#include "app/config_file.h"

#include <fstream>
#include <set>
#include <sstream>

namespace isvc::app {

namespace {

std::string strip(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool valid_key(const std::string& k) {
  if (k.empty() || std::isdigit(static_cast<unsigned char>(k[0]))) return false;
  for (unsigned char c : k)
    if (!std::isalnum(c) && c != '_') return false;
  return true;
}

std::string unquote(const std::string& v, const std::string& where) {
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') return v.substr(1, v.size() - 2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    for (std::size_t i = 1; i + 1 < v.size(); ++i) {
      char c = v[i];
      if (c == '\\' && i + 2 < v.size()) {
        char n = v[i + 1];
        if (n == '\\' || n == '"' || n == '$' || n == '`') {
          out += n;
          ++i;
          continue;
        }
      }
      if (c == '"') throw ConfigError(where + ": unescaped '\"' inside a double-quoted value");
      out += c;
    }
    return out;
  }
  if (!v.empty() && (v.front() == '"' || v.front() == '\''))
    throw ConfigError(where + ": unterminated quote");
  return v;
}

std::string read_secret_file(const std::string& name, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(name + ": cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

std::map<std::string, FileSetting> read_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("--config: cannot read '" + path + "'");
  std::map<std::string, FileSetting> out;
  std::string raw;
  for (int n = 1; std::getline(in, raw); ++n) {
    std::string line = strip(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    std::string where = path + " line " + std::to_string(n);
    auto eq = line.find('=');
    if (eq == std::string::npos) throw ConfigError(where + ": expected KEY=value");
    std::string key = strip(line.substr(0, eq));
    if (key.rfind("export ", 0) == 0)
      throw ConfigError(where + ": 'export' is not part of the format (KEY=value only)");
    if (!valid_key(key)) throw ConfigError(where + ": '" + key + "' is not a setting name");
    out[key] = FileSetting{unquote(strip(line.substr(eq + 1)), where), n};
  }
  return out;
}

Config load_settings(const std::string& config_path, const EnvLookup& env) {
  std::map<std::string, FileSetting> file;
  if (!config_path.empty()) file = read_config_file(config_path);
  auto from_file = [&](const std::string& k) -> const FileSetting* {
    auto it = file.find(k);
    return it == file.end() ? nullptr : &it->second;
  };
  auto where = [&](const std::string& k) {
    const FileSetting* f = from_file(k);
    return f ? " (" + config_path + " line " + std::to_string(f->line) + ")" : std::string();
  };
  std::set<std::string> asked;
  auto lookup = [&](const std::string& name) -> std::optional<std::string> {
    asked.insert(name);
    // The environment overrides the file; within one source, X and X_FILE are exclusive.
    // An empty variable counts as unset, as load_config treats it.
    auto set = [&](const std::string& k) {
      auto v = env(k);
      return v && !v->empty() ? v : std::nullopt;
    };
    auto direct = set(name);
    auto indirect = set(name + "_FILE");
    if (direct && indirect)
      throw ConfigError(name + ": set either " + name + " or " + name + "_FILE, not both");
    if (direct) return direct;
    if (indirect) return read_secret_file(name + "_FILE", *indirect);
    const FileSetting* fd = from_file(name);
    const FileSetting* fi = from_file(name + "_FILE");
    if (fd && fi)
      throw ConfigError(name + ": set either " + name + " or " + name + "_FILE, not both" +
                        where(name));
    if (fd) return fd->value;
    if (fi) {
      try {
        return read_secret_file(name + "_FILE", fi->value);
      } catch (const ConfigError& e) {
        throw ConfigError(e.what() + where(name + "_FILE"));
      }
    }
    return std::nullopt;
  };
  std::optional<Config> cfg;
  try {
    cfg = load_config(lookup);
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    std::string key = msg.substr(0, msg.find(':'));
    auto env_set = [&](const std::string& k) {
      auto v = env(k);
      return v && !v->empty();
    };
    bool from_env = env_set(key) || env_set(key + "_FILE");
    if (!from_env && msg.find(" line ") == std::string::npos) {
      if (from_file(key))
        msg += where(key);
      else if (from_file(key + "_FILE"))
        msg += where(key + "_FILE");
    }
    throw ConfigError(msg);
  }
  // The names load_config asks for with nothing set (every unconditional setting), plus those
  // it asked for this time (settings read only when another one is set).
  auto none = [&](const std::string& name) -> std::optional<std::string> {
    asked.insert(name);
    return std::nullopt;
  };
  try {
    load_config(none);
  } catch (const ConfigError&) {
    // Only the names matter here.
  }
  for (const auto& [key, f] : file) {
    bool known =
        asked.count(key) || (key.size() > 5 && key.compare(key.size() - 5, 5, "_FILE") == 0 &&
                             asked.count(key.substr(0, key.size() - 5)));
    if (!known)
      throw ConfigError(key + ": unknown setting (" + config_path + " line " +
                        std::to_string(f.line) + ")");
  }
  return *cfg;
}

}  // namespace isvc::app
