// ctprep validate: the gate before training (exit 0 only when no rule has an error).
#include <filesystem>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/report/validate.hpp"

namespace ctprep::cli {
namespace {

struct validate_options {
  std::filesystem::path dataset_dir;
  int expected_classes = 0;
  bool skip_image_validation = false;
  bool json = false;
  std::filesystem::path json_out;
  std::size_t max_items = 10;
  common_options common;
};

int run_validate(const validate_options& o) {
  report::validate_options options;
  options.expected_classes = o.expected_classes;
  options.skip_image_validation = o.skip_image_validation;
  options.jobs = o.common.jobs;
  options.progress = [quiet = o.common.quiet](std::string label, std::uint64_t total) {
    return make_progress(std::move(label), total, quiet);
  };
  // A release root (v4/ with 6class_coco, 4class_coco...) is validated dataset by
  // dataset in one pass, so files shared through links are decoded once.
  auto dirs = report::find_datasets(o.dataset_dir);
  const bool release_root = !dirs.empty();
  if (!release_root) dirs.push_back(o.dataset_dir);
  auto all = report::validate_datasets(dirs, options);
  if (!all) return report_error("validate", all.error());

  std::uint64_t errors = 0, warnings = 0;
  for (const auto& v : *all) errors += v.errors(), warnings += v.warnings();
  const auto json = [&] {
    return release_root ? report::to_json(*all) : report::to_json(all->front());
  };
  // The findings as data in a file too, from the same pass (`ctprep run` shows the
  // human report and keeps validation.json without decoding the release twice).
  if (!o.json_out.empty()) {
    if (auto ok = core::write_file_atomic(o.json_out, json()); !ok) {
      return report_error("validate", ok.error());
    }
  }
  if (o.json) {
    fmt::print("{}", json());
  } else {
    for (std::size_t i = 0; i < all->size(); ++i) {
      if (i > 0) fmt::print("\n");
      fmt::print("{}", report::to_text((*all)[i], o.max_items));
    }
    if (release_root) {
      fmt::print("\n{} datasets under {}: {}\n", all->size(), o.dataset_dir.string(),
                 errors == 0 ? fmt::format("all passed ({} warnings)", warnings)
                             : fmt::format("{} errors, {} warnings", errors, warnings));
    }
  }
  return errors == 0 ? exit_ok : exit_validation_failed;
}

run_function setup_validate(CLI::App& app) {
  auto o = std::make_shared<validate_options>();
  app.add_option("--dataset-dir", o->dataset_dir,
                 "Dataset folder (train/valid/test split folders, or one flat COCO folder), or a "
                 "release root holding several datasets")
      ->required();
  app.add_option("--expected-classes", o->expected_classes,
                 "Class set the categories must equal by name and id: 6 or 4 (default: "
                 "metadata.yaml's type, else recognised from the category names)")
      ->check(CLI::IsMember({4, 6}));
  app.add_flag("--skip-image-validation", o->skip_image_validation,
               "Read image headers only (sizes still checked); no full pixel decode");
  app.add_flag("--json", o->json,
               "Print every finding as JSON (rule, severity, split, file, message)");
  app.add_option("--json-out", o->json_out,
                 "Also write the findings as JSON to this file (any exit code)");
  app.add_option("--max-items", o->max_items,
                 "Findings named per rule in the text report (default 10)");
  add_jobs_option(app, o->common);
  add_quiet_option(app, o->common);
  return [o] { return run_validate(*o); };
}

const registrar reg{{"validate",
                     "Check a dataset before training: the eight rules and more; exit 7 on failure",
                     setup_validate}};

}  // namespace
}  // namespace ctprep::cli
