// A real S3 for the tests: tests/servers/s3_test_server.js runs npm s3rver on a free
// loopback port with its own data folder, behind our proxy that verifies SigV4 (npm
// aws4) and injects faults on request. Header-only so that only the tests that use it
// pay for it. Tests skip (GTEST_SKIP) only when node is not installed.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "support/testing.hpp"

namespace ctprep::testing {

// The path of `node`, or "" when it is not installed.
inline std::string find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const auto candidate = std::filesystem::path(dir) / "node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

inline std::filesystem::path servers_dir() {
  return std::filesystem::path(CTPREP_SOURCE_DIR) / "tests" / "servers";
}

// In a test body: GTEST_SKIP when node is missing; fails when node is there but the npm
// packages were not installed (scripts/setup installs them).
#define CTPREP_REQUIRE_S3_SERVER()                                                             \
  do {                                                                                         \
    if (::ctprep::testing::find_node().empty()) {                                              \
      GTEST_SKIP() << "node is not installed: the S3 tests need node (npm s3rver)";            \
    }                                                                                          \
    ASSERT_TRUE(                                                                               \
        std::filesystem::exists(::ctprep::testing::servers_dir() / "node_modules" / "s3rver")) \
        << "npm packages missing in tests/servers: run scripts/setup";                         \
  } while (0)

struct s3_server_options {
  std::string access_key = "AKIDTESTKEY";
  std::string secret_key = "testsecret/Ab+Cd";
  std::string session_token;  // when set, the proxy requires it
  std::vector<std::string> public_buckets;
  std::filesystem::path objects;  // <objects>/<bucket>/<key...>, uploaded at start
};

class s3_server {
 public:
  explicit s3_server(s3_server_options options) : options_(std::move(options)) {
    const auto node = find_node();
    if (node.empty()) throw std::runtime_error("node not found");
    std::vector<std::string> args = {node,           (servers_dir() / "s3_test_server.js").string(),
                                     "--data",       (dir_ / "data").string(),
                                     "--control",    (dir_ / "control").string(),
                                     "--access-key", options_.access_key,
                                     "--secret-key", options_.secret_key};
    if (!options_.objects.empty()) {
      args.push_back("--objects");
      args.push_back(options_.objects.string());
    }
    if (!options_.session_token.empty()) {
      args.push_back("--session-token");
      args.push_back(options_.session_token);
    }
    for (const auto& b : options_.public_buckets) {
      args.push_back("--public");
      args.push_back(b);
    }
    int in_pipe[2], out_pipe[2];
    if (::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in_pipe[0], 0);
      ::dup2(out_pipe[1], 1);
      ::close(in_pipe[1]);
      ::close(out_pipe[0]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    stdin_fd_ = in_pipe[1];
    // Wait for {"port":P,...} (uploading the objects comes first).
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (line.find('\n') == std::string::npos) {
      pollfd p{out_pipe[0], POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[256];
      const auto n = ::read(out_pipe[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out_pipe[0]);
    const auto at = line.find("\"port\":");
    if (at == std::string::npos) {
      stop();
      throw std::runtime_error("s3_test_server did not start: '" + line + "'");
    }
    port_ = std::stoi(line.substr(at + 7));
  }
  ~s3_server() { stop(); }
  s3_server(const s3_server&) = delete;
  s3_server& operator=(const s3_server&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string endpoint() const { return fmt::format("http://127.0.0.1:{}", port_); }
  [[nodiscard]] const s3_server_options& options() const { return options_; }

  // faults: JSON object text, "bucket/key": ["500", "reset", ...]; stall_ms for "stall".
  void set_faults(const std::string& faults_json, int stall_ms = 10000) {
    write_text(dir_ / "control" / "faults.json",
               fmt::format(R"({{"generation": {}, "stall_ms": {}, "faults": {}}})", ++generation_,
                           stall_ms, faults_json));
  }

  // The proxy's request log, one JSON object per line.
  [[nodiscard]] std::vector<std::string> requests() const {
    std::vector<std::string> out;
    std::ifstream in(dir_ / "control" / "requests.jsonl");
    for (std::string l; std::getline(in, l);) {
      if (!l.empty()) out.push_back(l);
    }
    return out;
  }
  void clear_requests() { std::filesystem::remove(dir_ / "control" / "requests.jsonl"); }

  // How many logged requests contain every one of the fragments.
  [[nodiscard]] int count_requests(const std::vector<std::string>& fragments) const {
    int n = 0;
    for (const auto& r : requests()) {
      bool all = true;
      for (const auto& f : fragments) all = all && r.find(f) != std::string::npos;
      n += all ? 1 : 0;
    }
    return n;
  }

 private:
  void stop() {
    if (stdin_fd_ >= 0) {
      ::close(stdin_fd_);
      stdin_fd_ = -1;
    }
    if (pid_ > 0) {
      // Closing stdin asks it to stop; make sure it does.
      for (int i = 0; i < 50; ++i) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          return;
        }
        ::usleep(20000);
      }
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  s3_server_options options_;
  temp_dir dir_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int port_ = 0;
  int generation_ = 0;
};

}  // namespace ctprep::testing
