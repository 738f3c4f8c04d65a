// ctprep run: the whole workflow in one resumable command. Each stage is the command a
// user would type (dispatched in-process, so it behaves identically); checkpoints in
// <data-root>/.ctprep/run.json let a re-run skip stages whose inputs and outputs did not
// change; a manifest with a SHA-256 of every output closes the run.
#include <chrono>
#include <filesystem>
#include <optional>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "cli/command.hpp"
#include "cli/s3_access.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/pipeline/checkpoint.hpp"
#include "ctprep/pipeline/manifest.hpp"

namespace ctprep::cli {
namespace {
namespace fs = std::filesystem;

struct run_options {
  fs::path data_root = "data";
  fs::path recipe;
  fs::path config;
  long long max_images = -1;  // -1: no cap
  bool fp_only = false;
  bool skip_download = false;
  bool skip_augmentation = false;
  std::uint64_t seed = 42;
  s3_access_options s3;  // passed on to download
  std::vector<std::string> force;
  common_options common;
};

// The layout of SPEC 1 under a data root.
struct layout {
  fs::path root, csv, pool, v3, roboflow, release, metadata, state_dir;
  explicit layout(const fs::path& r)
      : root(r),
        csv(r / "metadata" / "no_hemorrhage_positive_feedback.csv"),
        pool(r / "training_datasets" / "no_hemorrhage_downloads"),
        v3(r / "training_datasets" / "v3" / "filtered_4class" / "coco"),
        roboflow(r / "training_datasets" / "roboflow_downloads" /
                 "UAT_CT_BRAIN_HEMORRHAGE_V3.v3i.coco"),
        release(r / "training_datasets" / "v4"),
        metadata(r / "metadata"),
        state_dir(r / ".ctprep") {}
};

// One ctprep command line; its stdout goes to `stdout_file` when one is given.
struct command_line {
  std::vector<std::string> args;
  fs::path stdout_file;
};

struct stage {
  std::string name;
  std::vector<command_line> commands;
  std::vector<fs::path> watched;    // inputs and outputs of the stage
  std::vector<std::string> ignore;  // file names the fingerprint skips
};

// Files a run writes for the record; no stage reads them, so they never make a stage stale.
const std::vector<std::string> record_files = {"manifest.json", "report.html", "validation.json"};

struct stage_outcome {
  std::string name;
  std::string status;
  double seconds = 0;
  int exit_code = 0;
};

// A YAML config file: keys are the long option names; the command line wins.
core::result<void> apply_config(run_options& o, const CLI::App& app) {
  if (o.config.empty()) return {};
  YAML::Node root;
  try {
    root = YAML::LoadFile(o.config.string());
  } catch (const YAML::BadFile&) {
    return core::fail(core::error_code::not_found,
                      fmt::format("config file '{}' does not exist", o.config.string()));
  } catch (const YAML::Exception& e) {
    return core::fail(core::error_code::bad_recipe,
                      fmt::format("'{}': {}", o.config.string(), e.what()));
  }
  if (!root.IsMap()) {
    return core::fail(core::error_code::bad_recipe,
                      fmt::format("'{}' must be a mapping of option: value", o.config.string()));
  }
  for (const auto& item : root) {
    const auto key = item.first.as<std::string>();
    const auto& value = item.second;
    const auto* option = app.get_option_no_throw("--" + key);
    if (option != nullptr && option->count() > 0) continue;  // given on the command line
    try {
      if (key == "data-root")
        o.data_root = value.as<std::string>();
      else if (key == "recipe")
        o.recipe = value.as<std::string>();
      else if (key == "max-images")
        o.max_images = value.as<long long>();
      else if (key == "fp-only")
        o.fp_only = value.as<bool>();
      else if (key == "skip-download")
        o.skip_download = value.as<bool>();
      else if (key == "skip-augmentation")
        o.skip_augmentation = value.as<bool>();
      else if (key == "seed")
        o.seed = value.as<std::uint64_t>();
      else if (key == "jobs")
        o.common.jobs = value.as<unsigned>();
      else if (key == "quiet")
        o.common.quiet = value.as<bool>();
      else if (key == "endpoint-url")
        o.s3.endpoint_url = value.as<std::string>();
      else if (key == "addressing-style")
        o.s3.addressing = value.as<std::string>();
      else if (key == "env-file")
        o.s3.env_file = value.as<std::string>();
      else if (key == "profile")
        o.s3.profile = value.as<std::string>();
      else if (key == "region")
        o.s3.region = value.as<std::string>();
      else if (key == "no-sign-request")
        o.s3.no_sign_request = value.as<bool>();
      else {
        return core::fail(core::error_code::bad_recipe,
                          fmt::format("'{}': unknown option '{}'", o.config.string(), key));
      }
    } catch (const YAML::Exception&) {
      return core::fail(
          core::error_code::bad_recipe,
          fmt::format("'{}': option '{}' has a value of the wrong type", o.config.string(), key));
    }
  }
  return {};
}

std::vector<stage> plan_stages(const run_options& o, const layout& l) {
  const auto jobs = std::to_string(o.common.jobs);
  std::vector<stage> stages;
  if (!o.skip_download) {
    std::vector<std::string> cmd = {"download", "--data-root", l.root.string(), "--log",
                                    (l.state_dir / "download.jsonl").string()};
    if (o.max_images >= 0) cmd.insert(cmd.end(), {"--max-images", std::to_string(o.max_images)});
    if (o.fp_only) cmd.push_back("--fp-only");
    append_s3_access_args(o.s3, cmd);
    if (o.common.quiet) cmd.push_back("--quiet");
    auto ignore = record_files;
    ignore.push_back("_annotations.coco.json");  // annotate's output, not download's
    stages.push_back({"download", {{cmd, {}}}, {l.csv, l.v3, l.roboflow, l.pool}, ignore});
  }
  std::vector<std::string> annotate = {"annotate", "--image-dir", l.pool.string(), "--jobs", jobs};
  if (o.common.quiet) annotate.push_back("--quiet");
  stages.push_back({"annotate", {{annotate, {}}}, {l.pool}, record_files});

  std::vector<std::string> prepare = {
      "prepare", "--data-root", l.root.string(), "--seed", std::to_string(o.seed), "--jobs", jobs};
  if (!o.recipe.empty()) prepare.insert(prepare.end(), {"--recipe", o.recipe.string()});
  if (o.skip_augmentation) prepare.push_back("--skip-augmentation");
  if (o.common.quiet) prepare.push_back("--quiet");
  std::vector<fs::path> prepare_watch = {l.csv, l.v3, l.roboflow, l.pool, l.release};
  if (!o.recipe.empty()) prepare_watch.push_back(o.recipe);
  stages.push_back({"prepare", {{prepare, {}}}, prepare_watch, record_files});

  // The human report on the terminal and the findings as data for the HTML report, from
  // one pass over the release.
  std::vector<std::string> validate = {"validate",
                                       "--dataset-dir",
                                       l.release.string(),
                                       "--jobs",
                                       jobs,
                                       "--json-out",
                                       (l.release / "validation.json").string()};
  if (o.common.quiet) validate.push_back("--quiet");
  stages.push_back({"validate", {{validate, {}}}, {l.release}, record_files});
  stages.push_back({"analyze",
                    {{{"analyze", "--dataset-dir", (l.release / "6class_coco").string()}, {}}},
                    {l.release},
                    record_files});
  const auto six = l.metadata / "v4_dataset_6class.csv",
             four = l.metadata / "v4_dataset_4class.csv";
  stages.push_back({"export-csv",
                    {{{"export-csv", "--dataset-dir", (l.release / "6class_coco").string(),
                       "--output", six.string()},
                      {}},
                     {{"export-csv", "--dataset-dir", (l.release / "4class_coco").string(),
                       "--output", four.string()},
                      {}}},
                    {l.release, six, four},
                    record_files});
  stages.push_back(
      {"report",
       {{{"report", "--dataset-dir", (l.release / "6class_coco").string(), "--validation-json",
          (l.release / "validation.json").string(), "--feedback-csv", l.csv.string(), "--seed",
          std::to_string(o.seed), "--out", (l.release / "report.html").string()},
         {}}},
       {l.release, l.csv},
       {"manifest.json"}});
  return stages;
}

std::string joined(const std::vector<command_line>& commands) {
  std::string out;
  for (const auto& c : commands) {
    for (const auto& a : c.args) out += a + '\x1f';
    out += c.stdout_file.string() + '\n';
  }
  return out;
}

// Runs a command with its stdout sent to a file (written whole: temp, then rename).
int dispatch_to_file(const command_line& c) {
  if (c.stdout_file.empty()) return dispatch(c.args);
  const auto temp = c.stdout_file.string() + ".tmp";
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (saved < 0 || fd < 0) {
    if (saved >= 0) ::close(saved);
    return report_error("run", core::error::make(core::error_code::not_writable,
                                                 fmt::format("cannot write '{}'", temp)));
  }
  ::dup2(fd, STDOUT_FILENO);
  ::close(fd);
  const int code = dispatch(c.args);
  std::fflush(stdout);
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  std::error_code ec;
  fs::rename(temp, c.stdout_file, ec);
  return code;
}

// Stages whose failure still lets the rest run: a partial download (some rows failed,
// as the seed expects) and a failed validation (the analysis and report still help).
bool can_continue_after(int code) {
  return code == exit_partial || code == exit_validation_failed;
}

int run_workflow(run_options o, const CLI::App& app) {
  if (auto ok = apply_config(o, app); !ok) return report_error("run", ok.error());
  for (const auto& f : o.force) {
    static const std::vector<std::string> names = {"download", "annotate",   "prepare", "validate",
                                                   "analyze",  "export-csv", "all"};
    if (std::find(names.begin(), names.end(), f) == names.end()) {
      return report_error("run", core::error::make(core::error_code::bad_argument,
                                                   fmt::format("--force: no stage named '{}'", f)));
    }
  }
  const layout l(o.data_root);
  std::error_code ec;
  if (!fs::is_directory(l.root, ec)) {
    return report_error(
        "run", core::error::make(core::error_code::not_found,
                                 fmt::format("data root '{}' does not exist", l.root.string())));
  }
  const auto state_path = l.state_dir / "run.json";
  auto checkpoints = pipeline::load_checkpoints(state_path);
  if (!checkpoints) return report_error("run", checkpoints.error());

  const auto stages = plan_stages(o, l);
  std::vector<stage_outcome> outcomes;
  int first_failure = exit_ok;
  bool forced_before = false;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const auto& s = stages[i];
    fmt::print("\n━━━ [{}/{}] {} ━━━\n", i + 1, stages.size(), s.name);
    std::fflush(stdout);
    const bool forced = forced_before ||
                        std::find(o.force.begin(), o.force.end(), s.name) != o.force.end() ||
                        std::find(o.force.begin(), o.force.end(), "all") != o.force.end();
    auto before = pipeline::fingerprint(s.watched, joined(s.commands), s.ignore);
    if (!before) return report_error("run", before.error());
    const auto recorded = checkpoints->stages.find(s.name);
    if (!forced && recorded != checkpoints->stages.end() && recorded->second.status == "done" &&
        recorded->second.fingerprint == *before) {
      fmt::print("up to date (inputs and outputs unchanged since the last run): skipped\n");
      outcomes.push_back({s.name, "up to date", 0, recorded->second.exit_code});
      continue;
    }
    // A stage that runs makes every later stage run too: their inputs are being rebuilt.
    forced_before = true;
    checkpoints->stages[s.name] = {*before, "running", 0};
    if (auto ok = pipeline::save_checkpoints(state_path, *checkpoints); !ok) {
      return report_error("run", ok.error());
    }
    const auto start = std::chrono::steady_clock::now();
    int code = exit_ok;
    for (const auto& command : s.commands) {
      const int c = dispatch_to_file(command);
      std::fflush(stdout);
      if (c != exit_ok && code == exit_ok) code = c;
      if (c != exit_ok && !can_continue_after(c)) break;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const bool finished = code == exit_ok || can_continue_after(code);
    auto after = pipeline::fingerprint(s.watched, joined(s.commands), s.ignore);
    if (!after) return report_error("run", after.error());
    checkpoints->stages[s.name] = {*after, code == exit_ok ? "done" : "failed", code};
    if (auto ok = pipeline::save_checkpoints(state_path, *checkpoints); !ok) {
      return report_error("run", ok.error());
    }
    outcomes.push_back(
        {s.name, code == exit_ok ? "done" : fmt::format("exit {}", code), seconds, code});
    if (code != exit_ok && first_failure == exit_ok) first_failure = code;
    if (!finished) break;
  }

  // The manifest: every output of the release with its SHA-256.
  if (fs::is_directory(l.release, ec)) {
    pipeline::manifest m;
    m.tool_version = CTPREP_VERSION;
    m.seed = o.seed;
    for (const auto& out : outcomes) {
      m.stages.push_back({out.name, out.status, out.seconds, {}});
    }
    auto files = pipeline::hash_tree(l.release, o.common.jobs);
    if (!files) return report_error("run", files.error());
    m.files = std::move(*files);
    if (auto ok =
            core::write_file_atomic(l.release / pipeline::manifest_file_name, pipeline::to_json(m));
        !ok) {
      return report_error("run", ok.error());
    }
  }

  fmt::print("\n━━━ summary ━━━\n");
  fmt::print("{:<12} {:<12} {:>9}\n", "stage", "status", "seconds");
  for (const auto& out : outcomes) {
    fmt::print("{:<12} {:<12} {:>9.1f}\n", out.name, out.status, out.seconds);
  }
  fmt::print("\nDatasets:   {}\n", (l.release).string());
  fmt::print("CSV:        {}, {}\n", (l.metadata / "v4_dataset_6class.csv").string(),
             (l.metadata / "v4_dataset_4class.csv").string());
  fmt::print("Manifest:   {} (check it with: ctprep verify-manifest {})\n",
             (l.release / pipeline::manifest_file_name).string(), l.release.string());
  if (fs::exists(l.release / "report.html", ec)) {
    fmt::print("Report:     {}\n", (l.release / "report.html").string());
  }
  fmt::print("Checkpoints: {}\n", state_path.string());
  return first_failure;
}

run_function setup_run(CLI::App& app) {
  auto o = std::make_shared<run_options>();
  app.add_option("--data-root", o->data_root, "Data root holding the SPEC 1 layout")
      ->capture_default_str();
  app.add_option("--config", o->config, "YAML file of option: value (flags override it)");
  app.add_option("--recipe", o->recipe, "Recipe YAML for prepare (default: built-in v4)");
  app.add_option("--max-images", o->max_images, "Download at most N slices (FP first)");
  app.add_flag("--fp-only", o->fp_only, "Download only False Positive rows");
  app.add_flag("--skip-download", o->skip_download, "Use the pool as it is");
  app.add_flag("--skip-augmentation", o->skip_augmentation, "prepare without augmentation");
  app.add_option("--seed", o->seed, "Seed of the split and augmentation")->capture_default_str();
  add_s3_access_options(app, o->s3);
  app.add_option("--force", o->force,
                 "Redo a stage (and those after it) even if up to date: download, annotate, "
                 "prepare, validate, analyze, export-csv, report, all");
  add_jobs_option(app, o->common);
  add_quiet_option(app, o->common);
  return [o, &app] { return run_workflow(*o, app); };
}

const registrar reg{{"run",
                     "The whole workflow: download, annotate, prepare, validate, analyze, "
                     "export-csv, report, with checkpoints and a manifest",
                     setup_run}};

}  // namespace
}  // namespace ctprep::cli
