// A real one-node Slurm cluster on loopback for the tests (Debian's slurmctld, slurmd,
// slurm-client and munge, installed by scripts/setup from scripts/setup.d/slurm.packages).
// Runs as root: a munge key and munged with its own socket, then `slurmctld -D` and
// `slurmd -D` with a generated slurm.conf, all state, spool and logs in a temp folder and
// free ports; SLURM_CONF is exported to this process so that sbatch, squeue, scancel and
// the scripts the tests run talk to this cluster. Everything it started is stopped by PID.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

#include "support/testing.hpp"

namespace ctprep::testing {

struct command_result {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs a command (words shell-quoted), capturing stdout and stderr together.
[[nodiscard]] command_result run_command(const std::vector<std::string>& words);

class slurm_cluster {
 public:
  // The Slurm and munge programs this needs that are not installed ("" when all are).
  [[nodiscard]] static std::string missing_programs();

  // Starts the cluster and waits until `sinfo` shows the node idle; throws
  // std::runtime_error (with the daemons' log tails) when it does not come up.
  slurm_cluster();
  ~slurm_cluster();
  slurm_cluster(const slurm_cluster&) = delete;
  slurm_cluster& operator=(const slurm_cluster&) = delete;

  [[nodiscard]] const std::filesystem::path& conf() const { return conf_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }

  // Waits until every task of the job is in a final state (COMPLETED, FAILED, CANCELLED...);
  // false on timeout.
  [[nodiscard]] bool wait_for_job(const std::string& job_id,
                                  std::chrono::seconds timeout = std::chrono::seconds(90)) const;
  // JobState per task of a job still known to slurmctld: "<id>" or "<id>_<task>" ->
  // "COMPLETED", "FAILED", "CANCELLED", "PENDING", ...
  [[nodiscard]] std::map<std::string, std::string> job_states(const std::string& job_id) const {
    return job_field(job_id, "JobState");
  }
  // Any field of `scontrol show job` per task, e.g. "StartTime", "EndTime".
  [[nodiscard]] std::map<std::string, std::string> job_field(const std::string& job_id,
                                                             const std::string& name) const;
  // The tail of the controller's and the node daemon's logs (for failure messages).
  [[nodiscard]] std::string log_tail() const;

 private:
  pid_t start(const std::vector<std::string>& words, const std::string& log_name);
  void stop();

  temp_dir dir_;
  std::filesystem::path conf_;
  std::vector<pid_t> pids_;  // munged, slurmctld, slurmd: stopped in reverse order
  std::string previous_conf_;
  bool had_previous_conf_ = false;
};

}  // namespace ctprep::testing
