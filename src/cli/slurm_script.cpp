// ctprep slurm-script download ...: prints a Slurm batch script that runs a sharded
// download as a job array (one task per shard) plus a merge job that starts when every
// shard succeeded (--dependency=afterok). One file: `bash FILE` submits both, `sbatch
// FILE` is the array alone, and `sbatch --array=K FILE` re-runs shard K alone.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "cli/command.hpp"

namespace ctprep::cli {
namespace {
namespace fs = std::filesystem;

struct slurm_script_options {
  std::string what;
  std::uint64_t shards = 0;
  std::string partition;
  std::string time;
  unsigned cpus_per_task = 0;
  std::string mem;
  std::string account;
  fs::path log_dir = "slurm-logs";
  std::string job_name = "ctprep-download";
  std::string merge_after = "ok";
  fs::path ctprep;  // default: this binary
};

// One word for bash, whatever it holds (single quotes; ' written as '\'').
std::string shell_quote(std::string_view s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_./:=,+@%-").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

std::string join_quoted(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out.push_back(' ');
    out += shell_quote(w);
  }
  return out;
}

// #SBATCH lines are read by sbatch, not by a shell: their values must need no quoting.
core::result<void> check_directive_value(std::string_view option, std::string_view value) {
  const bool ok = std::all_of(value.begin(), value.end(), [](char c) {
    return c > ' ' && c != '"' && c != '\'' && c != '\\' && c != '#' && c != 0x7f;
  });
  if (ok) return {};
  return core::fail(core::error_code::bad_argument,
                    fmt::format("{} '{}': an #SBATCH line cannot carry spaces, quotes or control "
                                "characters; use a plainer path or value",
                                option, value));
}

// The value of `--name V` or `--name=V` in a download command line (the last one wins).
std::optional<std::string> option_value(const std::vector<std::string>& args,
                                        std::string_view name) {
  std::optional<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name && i + 1 < args.size()) {
      out = args[i + 1];
    } else if (args[i].starts_with(std::string(name) + "=")) {
      out = args[i].substr(name.size() + 1);
    }
  }
  return out;
}

bool has_flag(const std::vector<std::string>& args, std::string_view name) {
  return std::find(args.begin(), args.end(), name) != args.end();
}

// Parses the download options exactly as `ctprep download` would (without running it),
// so that a typo fails now and not on the cluster.
core::result<void> check_download_options(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    for (std::string_view refused : {"--shard", "--annotate", "--dry-run", "--no-log"}) {
      if (a == refused || a.starts_with(std::string(refused) + "=")) {
        return core::fail(core::error_code::bad_argument,
                          fmt::format("{} is not for slurm-script: each task gets --shard "
                                      "K/N and logs each item, and the merge job writes "
                                      "the COCO file",
                                      refused));
      }
    }
  }
  const auto& commands = registry();
  const auto download = std::find_if(commands.begin(), commands.end(),
                                     [](const command& c) { return c.name == "download"; });
  if (download == commands.end()) return core::fail(core::error_code::internal, "no download");
  CLI::App app{"download", "download"};
  auto run = download->setup(app);
  (void)run;
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("download options: {}", e.what()));
  }
  return {};
}

int run_slurm_script(const slurm_script_options& o, const std::vector<std::string>& args) {
  constexpr std::string_view cmd = "slurm-script";
  if (auto ok = check_download_options(args); !ok) return report_error(cmd, ok.error());
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  fs::path ctprep = o.ctprep;
  if (ctprep.empty()) ctprep = fs::read_symlink("/proc/self/exe", ec);
  if (ctprep.empty()) ctprep = "ctprep";
  const fs::path log_dir = o.log_dir.is_absolute() ? o.log_dir : cwd / o.log_dir;
  for (const auto& [option, value] :
       std::vector<std::pair<std::string_view, std::string>>{{"--partition", o.partition},
                                                             {"--time", o.time},
                                                             {"--mem", o.mem},
                                                             {"--account", o.account},
                                                             {"--job-name", o.job_name},
                                                             {"--log-dir", log_dir.string()},
                                                             {"working folder", cwd.string()}}) {
    if (auto ok = check_directive_value(option, value); !ok) return report_error(cmd, ok.error());
  }

  // Where the shards write: the merge job checks that folder.
  std::vector<std::string> merge = {ctprep.string(), "download-merge", "--shards",
                                    std::to_string(o.shards)};
  if (has_flag(args, "--no-convert")) {
    merge.push_back("--output-dir");
    merge.push_back(option_value(args, "--keep-dicom").value_or(""));
  } else if (auto dir = option_value(args, "--output-dir")) {
    merge.push_back("--output-dir");
    merge.push_back(*dir);
  } else if (auto root = option_value(args, "--data-root")) {
    merge.push_back("--data-root");
    merge.push_back(*root);
  }
  if (o.cpus_per_task > 0) {
    merge.push_back("--jobs");
    merge.push_back(std::to_string(o.cpus_per_task));
  }

  // Resource options shared by the array (as #SBATCH lines) and the merge job (as sbatch
  // arguments: a --wrap job reads no #SBATCH line).
  std::vector<std::string> resources;
  if (!o.partition.empty()) resources.push_back("--partition=" + o.partition);
  if (!o.account.empty()) resources.push_back("--account=" + o.account);
  if (!o.time.empty()) resources.push_back("--time=" + o.time);
  if (o.cpus_per_task > 0) resources.push_back(fmt::format("--cpus-per-task={}", o.cpus_per_task));
  if (!o.mem.empty()) resources.push_back("--mem=" + o.mem);

  std::vector<std::string> generated_by = {"ctprep", "slurm-script", o.what, "--shards",
                                           std::to_string(o.shards)};
  generated_by.insert(generated_by.end(), args.begin(), args.end());

  std::string s;
  auto line = [&s](std::string_view text) {
    s += text;
    s.push_back('\n');
  };
  line("#!/bin/bash");
  line(fmt::format("# ctprep download in {} shards as a Slurm job array, then one merge job.",
                   o.shards));
  line("# Made by: " + join_quoted(generated_by));
  line("#");
  line("#   bash THIS_FILE                  submit the job array (one task per shard) and the");
  line(fmt::format("#                                   merge job (starts when every shard {})",
                   o.merge_after == "ok" ? "succeeded" : "ended"));
  line("#   bash THIS_FILE rerun K[,K...]   submit shard(s) K alone again, then a merge job");
  line("#   bash THIS_FILE merge            submit the merge job alone");
  line(
      "#   sbatch THIS_FILE                the job array alone; sbatch --array=K THIS_FILE: shard "
      "K");
  line("#");
  line("# A shard resumes: finished slices are kept. The merge (ctprep download-merge) refuses,");
  line("# exit 7, while any shard is incomplete. Logs: " + log_dir.string() + "/");
  line(fmt::format("#SBATCH --job-name={}", o.job_name));
  line(fmt::format("#SBATCH --array=0-{}", o.shards - 1));
  line(fmt::format("#SBATCH --output={}/{}_%A_%a.out", log_dir.string(), o.job_name));
  line(fmt::format("#SBATCH --chdir={}", cwd.string()));
  for (const auto& r : resources) line("#SBATCH " + r);
  line("set -uo pipefail");
  line(fmt::format("shards={}", o.shards));
  line("ctprep=" + shell_quote(ctprep.string()));
  std::string download_args = "download_args=(";
  for (std::size_t i = 0; i < args.size(); ++i) {
    download_args += (i == 0 ? "" : " ") + shell_quote(args[i]);
  }
  line(download_args + ")");
  if (!has_flag(args, "--convert-threads") &&
      !std::any_of(args.begin(), args.end(),
                   [](const auto& a) { return a.starts_with("--convert-threads="); })) {
    line("download_args+=(--convert-threads \"${SLURM_CPUS_PER_TASK:-0}\")");
  }
  line("");
  line("if [[ -n \"${SLURM_ARRAY_TASK_ID:-}\" ]]; then");
  line("  # One shard. N is written here, not read from SLURM_ARRAY_TASK_COUNT: a shard re-run");
  line("  # alone (sbatch --array=K) is an array of one task.");
  line(
      "  exec \"$ctprep\" download --shard \"${SLURM_ARRAY_TASK_ID}/${shards}\" "
      "${download_args[@]+\"${download_args[@]}\"}");
  line("fi");
  line("");
  line("# Not in a job: submit.");
  line("script=$(readlink -f \"${BASH_SOURCE[0]}\")");
  line("merge_command=" + shell_quote(join_quoted(merge)));
  std::vector<std::string> merge_sbatch = {
      "--job-name=" + o.job_name + "-merge",
      "--output=" + log_dir.string() + "/" + o.job_name + "-merge_%j.out",
      "--chdir=" + cwd.string(), "--kill-on-invalid-dep=yes"};
  merge_sbatch.insert(merge_sbatch.end(), resources.begin(), resources.end());
  line("merge_sbatch=(" + join_quoted(merge_sbatch) + ")");
  line("mkdir -p " + shell_quote(log_dir.string()) + " || exit 5");
  line(fmt::format("submit_merge() {{  # $1: the job the merge waits for (after{}), or nothing",
                   o.merge_after));
  line("  local after=()");
  line(
      fmt::format("  [[ -n \"${{1:-}}\" ]] && after=(--dependency=after{}:\"$1\")", o.merge_after));
  // ${a[@]+"${a[@]}"}: an empty array under set -u fails on bash < 4.4 (older clusters).
  line(
      "  sbatch --parsable ${after[@]+\"${after[@]}\"} \"${merge_sbatch[@]}\" "
      "--wrap=\"$merge_command\"");
  line("}");
  line("case \"${1:-submit}\" in");
  line("  submit)");
  line("    array_id=$(sbatch --parsable \"$script\") || exit 1");
  line("    array_id=${array_id%%;*}");
  line("    merge_id=$(submit_merge \"$array_id\") || exit 1");
  const std::string_view when =
      o.merge_after == "ok" ? "after every shard succeeded" : "after every shard ended";
  line(fmt::format(
      "    echo \"download: job array ${{array_id}} (shards 0-$((shards - 1))); merge: job "
      "${{merge_id%%;*}} ({})\"",
      when));
  line("    ;;");
  line("  rerun)");
  line("    [[ -n \"${2:-}\" ]] || { echo \"usage: bash $script rerun K[,K...]\" >&2; exit 2; }");
  line("    array_id=$(sbatch --parsable --array=\"$2\" \"$script\") || exit 1");
  line("    array_id=${array_id%%;*}");
  line("    merge_id=$(submit_merge \"$array_id\") || exit 1");
  line(
      "    echo \"download: job array ${array_id} (shards $2); merge: job ${merge_id%%;*} "
      "(after them)\"");
  line("    ;;");
  line("  merge)");
  line("    merge_id=$(submit_merge) || exit 1");
  line("    echo \"merge: job ${merge_id%%;*}\"");
  line("    ;;");
  line("  *)");
  line("    echo \"usage: bash $script [submit | rerun K[,K...] | merge]\" >&2");
  line("    exit 2");
  line("    ;;");
  line("esac");
  fmt::print("{}", s);
  return exit_ok;
}

run_function setup_slurm_script(CLI::App& app) {
  auto o = std::make_shared<slurm_script_options>();
  app.add_option("command", o->what, "The command to run in shards: download")
      ->required()
      ->check(CLI::IsMember({"download"}));
  app.add_option("--shards", o->shards, "Number of shards N (array tasks 0..N-1)")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000}));
  app.add_option("--partition", o->partition, "Slurm partition");
  app.add_option("--time", o->time, "Time limit per task, e.g. 02:00:00");
  app.add_option("--cpus-per-task", o->cpus_per_task,
                 "CPUs per task (also the conversion threads of each shard)");
  app.add_option("--mem", o->mem, "Memory per task, e.g. 8G");
  app.add_option("--account", o->account, "Slurm account");
  app.add_option("--log-dir", o->log_dir, "Folder of the per-task logs (%A_%a)")
      ->capture_default_str();
  app.add_option("--job-name", o->job_name, "Job name")->capture_default_str();
  app.add_option("--merge-after", o->merge_after,
                 "ok: the merge starts when every shard succeeded (afterok); any: when every "
                 "shard ended (afterany), so shards with failed objects (exit 8) do not block "
                 "it; the merge still refuses while a shard is incomplete")
      ->check(CLI::IsMember({"ok", "any"}))
      ->capture_default_str();
  app.add_option("--ctprep", o->ctprep,
                 "ctprep as the compute nodes see it (default: this binary's path)");
  app.allow_extras();
  app.footer(
      "Every other option is a download option, passed to each shard as given (shell-quoted).\n"
      "Example: ctprep slurm-script download --csv-path f.csv --output-dir pool --shards 16 "
      "--partition cpu --time 01:00:00 --cpus-per-task 4 > download.sbatch && bash "
      "download.sbatch");
  return [o, &app] { return run_slurm_script(*o, app.remaining()); };
}

const registrar reg{{"slurm-script",
                     "Print a Slurm job-array script for a sharded download and its merge",
                     setup_slurm_script}};

}  // namespace
}  // namespace ctprep::cli
