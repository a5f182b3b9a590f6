#include "app/secrets.h"
#include "base/crypto.h"
#include "base/encoding.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace isvc::app {

std::string load_or_create_secret(const std::string& data_dir, const std::string& name) {
  std::filesystem::create_directories(data_dir);
  auto path = std::filesystem::path(data_dir) / name;
  {
    std::ifstream in(path);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string s = ss.str();
      while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
      if (s.size() >= 32) return s;
    }
  }
  std::string secret = base::hex_encode(base::random_bytes(32));
  auto tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw ConfigError("DATA_DIR: cannot write " + tmp);
  std::string line = secret + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0)
    throw ConfigError("DATA_DIR: cannot write " + path.string());
  return secret;
}

bool resolve_secrets(Config& cfg) {
  bool dev_secret = false;
  if (cfg.is_dev() && cfg.jwt_secret.empty() && cfg.jwt_jwks_url.empty() &&
      cfg.jwt_jwks_file.empty()) {
    cfg.jwt_secret = load_or_create_secret(cfg.data_dir, "dev-jwt-secret");
    dev_secret = true;
  }
  if (cfg.cursor_secret.empty()) {
    // Derived from JWT_SECRET when there is one, so every instance sharing it agrees; otherwise
    // persisted in DATA_DIR (set CURSOR_SECRET explicitly when instances share no JWT secret).
    cfg.cursor_secret = cfg.jwt_secret.empty()
                            ? load_or_create_secret(cfg.data_dir, "cursor-secret")
                            : base::hmac_sha256(cfg.jwt_secret, "isvc-cursor-v1");
  }
  return dev_secret;
}

}  // namespace isvc::app
