// ctprep report: one self-contained HTML page for a dataset (and its validation and
// evaluation results when given).
#include <filesystem>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "ctprep/pipeline/feedback_csv.hpp"
#include "ctprep/report/html_report.hpp"

namespace ctprep::cli {
namespace {
namespace fs = std::filesystem;

struct report_options {
  report::html_report_options html;
  fs::path feedback_csv;
  common_options common;
};

int run_report(report_options& o) {
  if (!o.feedback_csv.empty()) {
    auto table = pipeline::read_feedback_csv(o.feedback_csv, /*need_url=*/false);
    if (!table) return report_error("report", table.error());
    for (const auto& row : table->rows) {
      o.html.feedback[row.id] = row.cls == pipeline::feedback_class::fp ? report::negative_kind::fp
                                                                        : report::negative_kind::tn;
    }
  }
  o.html.jobs = o.common.jobs;
  auto result = report::write_html_report(o.html);
  if (!result) return report_error("report", result.error());
  for (const auto& w : result->warnings) print_warning("report", w);
  if (!o.common.quiet) {
    std::string sections;
    for (const auto& s : result->sections) sections += (sections.empty() ? "" : ", ") + s;
    fmt::print("✅ Report written to: {}\n", result->output.string());
    fmt::print("   Size: {:.1f} KB, {} thumbnails\n", static_cast<double>(result->bytes) / 1024.0,
               result->thumbnails);
    fmt::print("   Sections: {}\n", sections);
  } else {
    fmt::print("{}\n", result->output.string());
  }
  return exit_ok;
}

run_function setup_report(CLI::App& app) {
  auto o = std::make_shared<report_options>();
  app.add_option("--dataset-dir", o->html.dataset_dir,
                 "Dataset folder (train/valid/test split folders, or one flat COCO folder)")
      ->required();
  app.add_option("--out", o->html.output, "HTML file to write")->required();
  app.add_option("--evaluation", o->html.evaluation_dir,
                 "Folder written by `ctprep evaluate --out` (its metrics.json is shown)");
  app.add_option("--validation-json", o->html.validation_json,
                 "JSON printed by `ctprep validate --json` (every rule and finding is shown)");
  app.add_option("--feedback-csv", o->feedback_csv,
                 "Feedback CSV: split the no-hemorrhage slices into FP and TN");
  app.add_option("--seed", o->html.seed, "Seed of the contact sheets' choice (default 42)");
  app.add_option("--samples", o->html.samples_per_class, "Thumbnails per class sheet (default 12)")
      ->check(CLI::Range(0, 200));
  app.add_option("--augmentation-samples", o->html.augmentation_samples,
                 "Originals shown beside their augmented versions (default 4)")
      ->check(CLI::Range(0, 50));
  app.add_option("--thumbnail-size", o->html.thumbnail_side,
                 "Longer side of a thumbnail in pixels (default 176)")
      ->check(CLI::Range(16, 1024));
  add_jobs_option(app, o->common);
  add_quiet_option(app, o->common);
  return [o] { return run_report(*o); };
}

const registrar reg{
    {"report", "One self-contained HTML page: charts, contact sheets, findings", setup_report}};

}  // namespace
}  // namespace ctprep::cli
