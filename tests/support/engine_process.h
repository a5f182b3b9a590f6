// Test support: a DynamoDB (dynalite, or AWS's DynamoDB Local), S3 (s3rver) or Redis engine started
// on a free loopback port for the lifetime of the object (tests/tools/engine.mjs). Readiness is the
// engine's own "READY <port>" line, not a sleep. No engine available → the constructor throws, so
// the tests that need it fail instead of passing vacuously.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace isvc::testing {

class EngineProcess {
 public:
  // kind: "dynalite", "dynamodb-local", "s3rver" or "redis"; args follow engine.mjs's usage.
  EngineProcess(const std::string& kind, const std::vector<std::string>& args = {},
                std::string data_dir = {});
  ~EngineProcess();
  EngineProcess(const EngineProcess&) = delete;
  EngineProcess& operator=(const EngineProcess&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // One engine of each kind per test process, started on first use; or, when
  // ISVC_SHARED_ENGINE_<KIND> (e.g. ISVC_SHARED_ENGINE_DYNAMODB_LOCAL) names the file that
  // tests/tools/shared-engine.mjs wrote, the engine running there for the whole ctest run.
  static EngineProcess& shared(const std::string& kind);

 private:
  explicit EngineProcess(int port) : port_(port) {}  // attached to an engine someone else runs

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int port_ = 0;
  std::string data_dir_;  // removed when the engine stops
};

}  // namespace isvc::testing
