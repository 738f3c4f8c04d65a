#include "support/slurm_cluster.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace ctprep::testing {
namespace fs = std::filesystem;

namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

// The program's path on PATH or in the sbin folders, or "".
std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "";
  dirs += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::stringstream in(dirs);
  for (std::string dir; std::getline(in, dir, ':');) {
    if (dir.empty()) continue;
    const auto candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind() failed");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string short_hostname() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  std::string s(name);
  return s.substr(0, s.find('.'));
}

std::string tail(const fs::path& path, std::size_t bytes = 1500) {
  const auto text = read_text(path);
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

}  // namespace

command_result run_command(const std::vector<std::string>& words) {
  std::string command;
  for (const auto& w : words) command += (command.empty() ? "" : " ") + quote(w);
  command += " 2>&1 </dev/null";
  command_result r;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string slurm_cluster::missing_programs() {
  std::string missing;
  for (const char* p : {"munged", "mungekey", "slurmctld", "slurmd", "sbatch", "sinfo", "squeue",
                        "scontrol", "scancel"}) {
    if (find_program(p).empty()) missing += (missing.empty() ? "" : " ") + std::string(p);
  }
  return missing;
}

pid_t slurm_cluster::start(const std::vector<std::string>& words, const std::string& log_name) {
  const auto log = dir_ / log_name;
  std::vector<std::string> args = words;
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = ::open("/dev/null", O_RDONLY);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (null >= 0) ::dup2(null, 0);
    ::setpgid(0, 0);  // a test's Ctrl-C or SIGTERM reaches us, not the daemons directly
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pids_.push_back(pid);
  return pid;
}

slurm_cluster::slurm_cluster() {
  if (auto missing = missing_programs(); !missing.empty()) {
    throw std::runtime_error("Slurm/munge programs missing: " + missing +
                             " (install them with scripts/setup: scripts/setup.d/slurm.packages)");
  }
  const auto root = dir_.path();
  // munged insists that everyone may traverse its socket folder.
  fs::permissions(root, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  for (const char* sub : {"munge", "state", "spool", "log"}) fs::create_directories(root / sub);
  fs::permissions(root / "munge", fs::perms::owner_all | fs::perms::group_read |
                                      fs::perms::group_exec | fs::perms::others_read |
                                      fs::perms::others_exec);
  const auto key = root / "munge" / "munge.key";
  const auto socket = root / "munge" / "munge.socket";
  auto made = run_command({find_program("mungekey"), "--create", "--keyfile=" + key.string()});
  if (made.exit_code != 0) throw std::runtime_error("mungekey failed: " + made.output);

  start({find_program("munged"), "--foreground", "--socket=" + socket.string(),
         "--key-file=" + key.string(), "--log-file=" + (root / "log" / "munged.log").string(),
         "--pid-file=" + (root / "munge" / "munged.pid").string(),
         "--seed-file=" + (root / "munge" / "munged.seed").string(), "--num-threads=2"},
        "munged.out");
  for (int i = 0; i < 100 && !fs::exists(socket); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!fs::exists(socket)) {
    stop();
    throw std::runtime_error("munged did not start: " + tail(root / "munged.out"));
  }

  const auto host = short_hostname();
  const int ctld_port = free_port();
  int slurmd_port = free_port();
  while (slurmd_port == ctld_port) slurmd_port = free_port();
  conf_ = root / "slurm.conf";
  write_text(conf_,
             fmt::format(R"(# one-node test cluster (tests/support/slurm_cluster.cpp)
ClusterName=ctpreptest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={socket}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
KillWait=2
MinJobAge=600
SchedulerParameters=sched_interval=1
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
NodeName={host} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
)",
                         fmt::arg("host", host), fmt::arg("ctld_port", ctld_port),
                         fmt::arg("slurmd_port", slurmd_port), fmt::arg("socket", socket.string()),
                         fmt::arg("root", root.string())));
  if (const char* previous = std::getenv("SLURM_CONF"); previous != nullptr) {
    had_previous_conf_ = true;
    previous_conf_ = previous;
  }
  ::setenv("SLURM_CONF", conf_.c_str(), 1);

  start({find_program("slurmctld"), "-D", "-f", conf_.string()}, "slurmctld.out");
  start({find_program("slurmd"), "-D", "-f", conf_.string()}, "slurmd.out");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string state;
  while (std::chrono::steady_clock::now() < deadline) {
    state = run_command({find_program("sinfo"), "-h", "-o", "%T"}).output;
    if (state == "idle\n") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const auto logs = log_tail();
  stop();
  throw std::runtime_error("the Slurm node did not become idle within 30 s (sinfo: '" + state +
                           "')\n" + logs);
}

slurm_cluster::~slurm_cluster() {
  stop();
}

void slurm_cluster::stop() {
  if (pids_.size() == 3) {
    // Jobs still running belong to slurmstepd processes slurmd started: cancel them
    // through Slurm and give them a moment (KillWait=2) before the daemons go.
    (void)run_command({find_program("scancel"), "--full", "--user=root"});
    for (int i = 0; i < 50; ++i) {
      if (run_command({find_program("squeue"), "-h"}).output.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) {
    const pid_t pid = *it;
    ::kill(pid, SIGTERM);
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      gone = ::waitpid(pid, nullptr, WNOHANG) == pid;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!gone) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  pids_.clear();
  if (!conf_.empty()) {
    if (had_previous_conf_) {
      ::setenv("SLURM_CONF", previous_conf_.c_str(), 1);
    } else {
      ::unsetenv("SLURM_CONF");
    }
  }
}

bool slurm_cluster::wait_for_job(const std::string& job_id, std::chrono::seconds timeout) const {
  // Done when slurmctld reports every task in a final state (an empty or failed answer,
  // e.g. a timeout under load, is not "done").
  static const std::set<std::string> final_states = {"COMPLETED", "FAILED",        "CANCELLED",
                                                     "TIMEOUT",   "NODE_FAIL",     "PREEMPTED",
                                                     "BOOT_FAIL", "OUT_OF_MEMORY", "DEADLINE"};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto states = job_states(job_id);
    const bool done = !states.empty() &&
                      std::all_of(states.begin(), states.end(),
                                  [](const auto& s) { return final_states.contains(s.second); });
    if (done) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

std::map<std::string, std::string> slurm_cluster::job_field(const std::string& job_id,
                                                            const std::string& name) const {
  std::map<std::string, std::string> out;
  auto r = run_command({find_program("scontrol"), "-o", "show", "job", job_id});
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    auto field = [&line](const std::string& f) -> std::string {
      const auto at = line.find(" " + f + "=");
      const auto start0 = line.rfind(f + "=", 0) == 0 ? 0 : std::string::npos;
      std::size_t begin = at != std::string::npos ? at + f.size() + 2
                          : start0 == 0           ? f.size() + 1
                                                  : std::string::npos;
      if (begin == std::string::npos) return {};
      return line.substr(begin, line.find(' ', begin) - begin);
    };
    const auto value = field(name);
    if (value.empty()) continue;
    const auto array = field("ArrayJobId");
    const auto task = field("ArrayTaskId");
    const auto key = !array.empty() && !task.empty() ? array + "_" + task : field("JobId");
    out[key] = value;
  }
  return out;
}

std::string slurm_cluster::log_tail() const {
  return "--- slurmctld.log\n" + tail(dir_ / "log" / "slurmctld.log") + "\n--- slurmd.log\n" +
         tail(dir_ / "log" / "slurmd.log") + "\n--- slurmd.out\n" + tail(dir_ / "slurmd.out");
}

}  // namespace ctprep::testing
