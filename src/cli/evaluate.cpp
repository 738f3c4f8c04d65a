// ctprep evaluate: COCO metrics, image/patient-level rates, confusion matrix, negatives
// analysis and the 4-class comparison for a model's predictions on one split.
#include <filesystem>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "ctprep/report/evaluate.hpp"

namespace ctprep::cli {
namespace {

struct evaluate_options {
  report::evaluate_request request;
  std::filesystem::path out;
  bool json = false;
  common_options common;
};

int run_evaluate(evaluate_options& o) {
  o.request.jobs = o.common.jobs;
  auto e = report::evaluate(o.request);
  if (!e) return report_error("evaluate", e.error());
  if (e->dropped_unknown_image + e->dropped_unknown_category > 0) {
    print_warning("evaluate",
                  fmt::format("--ignore-unknown dropped {} detection(s) with an unknown image and "
                              "{} with an unknown category",
                              e->dropped_unknown_image, e->dropped_unknown_category));
  }
  if (!e->unidentified_images.empty()) {
    print_warning("evaluate",
                  fmt::format("{} image name(s) give no patient id (first: '{}'); "
                              "they are left out of the patient level",
                              e->unidentified_images.size(), e->unidentified_images.front()));
  }
  fmt::print("{}", o.json ? report::to_json(*e) : report::to_text(*e));
  if (!o.out.empty()) {
    auto written = report::write_outputs(*e, o.out);
    if (!written) return report_error("evaluate", written.error());
    if (!o.json) fmt::print("\n📁 Wrote {} files to {}\n", written->size(), o.out.string());
  }
  return exit_ok;
}

run_function setup_evaluate(CLI::App& app) {
  auto o = std::make_shared<evaluate_options>();
  auto& r = o->request;
  app.add_option("--dataset-dir", r.dataset_dir, "Dataset folder (train/valid/test splits)")
      ->required();
  app.add_option("--split", r.split, "Split to evaluate on")->capture_default_str();
  app.add_option("--predictions", r.predictions,
                 "COCO results JSON: [{image_id|file_name, category_id, bbox, score}]; "
                 "category ids must be the dataset's")
      ->required();
  app.add_option("--score-threshold", r.score_thresholds,
                 "Score threshold(s) for image/patient rates; the first one also drives the "
                 "confusion matrix and the negatives analysis (default 0.5)")
      ->expected(1, -1)
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--iou", r.iou, "IoU for the confusion matrix")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--feedback-csv", r.feedback_csv,
                 "CSV with patient_id, instance_no, classification_result: splits the negatives "
                 "into FP-history and TN slices");
  app.add_option("--compare-4class", r.compare_predictions,
                 "A 4-class model's predictions: compare it with this 6-class model collapsed "
                 "to the 4 shared classes");
  app.add_option("--dataset-4class-dir", r.dataset_4class_dir,
                 "The 4-class dataset for --compare-4class (default: the sibling folder with "
                 "6class replaced by 4class, else the split collapsed)");
  app.add_option("--worst", r.worst, "How many worst no-hemorrhage images to list")
      ->capture_default_str();
  app.add_flag("--ignore-unknown", r.ignore_unknown,
               "Drop (and count) detections of images or categories not in the split");
  app.add_flag("--pycocotools-id0", r.pycocotools_id0,
               "Reproduce pycocotools' defect that counts a match to annotation id 0 as a false "
               "positive (to compare with numbers pycocotools printed)");
  app.add_option("--out", o->out,
                 "Folder for metrics.json, per_image.csv, confusion_matrix.csv/.png, "
                 "negatives.csv and PR curve PNGs");
  app.add_flag("--json", o->json, "Print the metrics as JSON");
  add_jobs_option(app, o->common);
  return [o] { return run_evaluate(*o); };
}

const registrar reg{{"evaluate",
                     "Detection metrics (COCO mAP, sensitivity/specificity, confusion matrix, "
                     "negatives) for predictions on a split",
                     setup_evaluate}};

}  // namespace
}  // namespace ctprep::cli
