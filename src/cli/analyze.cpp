// ctprep analyze: what a dataset holds, per split and overall.
#include <filesystem>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "ctprep/report/analyze.hpp"

namespace ctprep::cli {
namespace {

struct analyze_options {
  std::filesystem::path dataset_dir;
  bool json = false;
};

int run_analyze(const analyze_options& o) {
  auto analysis = report::analyze_dataset(o.dataset_dir);
  if (!analysis) return report_error("analyze", analysis.error());
  fmt::print("{}", o.json ? report::to_json(*analysis) : report::to_text(*analysis));
  return exit_ok;
}

run_function setup_analyze(CLI::App& app) {
  auto o = std::make_shared<analyze_options>();
  app.add_option("--dataset-dir", o->dataset_dir,
                 "Dataset folder (train/valid/test split folders, or one flat COCO folder)")
      ->required();
  app.add_flag("--json", o->json, "Print the analysis as JSON");
  return [o] { return run_analyze(*o); };
}

const registrar reg{
    {"analyze", "Class, split, source and patient statistics of a dataset", setup_analyze}};

}  // namespace
}  // namespace ctprep::cli
