// What the HTML report's parts share: the inputs it reads besides the dataset
// (metadata.yaml, validate's JSON, evaluate's metrics.json) and the statistics it adds
// to analyze_dataset's numbers.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ctprep/coco/layout.hpp"
#include "ctprep/core/error.hpp"
#include "ctprep/report/html_report.hpp"

namespace ctprep::report::html {

// ---- metadata.yaml (docs/metadata.md); every field optional ----
struct split_balance {
  std::optional<std::uint64_t> added_fp, added_tn, shortfall, short_by;
};
struct metadata {
  bool present = false;
  std::string error;  // set when the file exists but cannot be parsed
  std::string version, type, variant, tool_version, recipe_digest, created;
  std::optional<std::uint64_t> seed;
  std::optional<double> target_ratio;
  std::optional<std::uint64_t> multiplier;
  std::map<std::string, split_balance> balance;
  std::optional<std::uint64_t> pool_left_fp, pool_left_tn;
};
[[nodiscard]] metadata read_metadata(const std::filesystem::path& dataset_dir);

// ---- ctprep validate --json ----
struct validation_line {
  std::string status;  // pass fail warn skip
  std::string text;
};
struct validation_rule {
  std::string id, title, status;  // passed failed warning skipped
  std::uint64_t errors = 0, warnings = 0;
  std::vector<validation_line> lines;
  std::vector<std::string> notes;
};
struct validation_finding {
  std::string rule, severity, split, file, message;
};
struct validation_result {
  std::string dataset_dir, kind;
  bool passed = false;
  std::uint64_t errors = 0, warnings = 0;
  std::vector<validation_rule> rules;
  std::vector<validation_finding> findings;
};
// One validation object, or {"datasets": [...]} as `validate` prints for a release root.
[[nodiscard]] core::result<std::vector<validation_result>> read_validation_json(
    const std::filesystem::path& path);

// ---- ctprep evaluate --out DIR: metrics.json ----
struct eval_class {
  std::string name;
  bool no_gt = false;
  std::uint64_t ground_truth = 0, detections = 0;
  std::optional<double> ap, ap50, ap75, ar100;
  std::vector<double> precision50, precision75;
};
struct eval_binary_row {
  double threshold = 0;
  std::uint64_t tp = 0, fp = 0, tn = 0, fn = 0;
  std::optional<double> sensitivity, specificity, ppv, npv, f1;
};
struct eval_binary {
  bool present = false;
  std::uint64_t positives = 0, negatives = 0;
  std::optional<double> roc_auc;
  std::vector<eval_binary_row> rows;
};
struct eval_negative_group {
  std::string name;
  std::uint64_t images = 0, images_with_fp = 0, false_positives = 0;
};
struct evaluation_result {
  std::string dataset_dir, split, predictions;
  std::uint64_t images = 0, annotations = 0, detections = 0;
  std::vector<std::pair<std::string, std::optional<double>>> summary;  // AP, AP50, ...
  std::vector<eval_class> classes;
  std::vector<double> recall_thresholds;
  eval_binary image_level, patient_level;
  std::vector<std::string> confusion_labels;
  std::vector<double> confusion_counts;  // row-major
  double confusion_iou = 0.5, confusion_score = 0.5;
  std::vector<eval_negative_group> negatives;
  std::vector<std::string> files;  // other files in the folder (png, csv), sorted
};
[[nodiscard]] core::result<evaluation_result> read_evaluation(const std::filesystem::path& dir);

// ---- statistics the page adds to analyze_dataset ----
struct image_ref {
  std::size_t split = 0;  // index into splits
  std::size_t image = 0;  // index into the split's images
};
struct patient_info {
  std::string id;
  std::vector<std::uint64_t> slices;  // original slices per split
  std::set<std::string> classes;      // class names seen on the patient's originals
};
struct dataset_stats {
  std::vector<std::string> class_names;  // union over splits, first-seen order
  // per class (class_names order): sqrt(w*h) and w/h of every box on an original image
  std::vector<std::vector<double>> box_sizes, box_aspects;
  // per split: histogram of boxes per image over every image (bins 0..7, 8+)
  std::vector<std::vector<double>> boxes_per_image;
  std::vector<patient_info> patients;  // sorted numerically by id
  // per class, per split: patients with that class on an original
  std::vector<std::vector<std::uint64_t>> class_patients;
  // per split: no-hemorrhage originals by feedback class (fp, tn, unknown)
  std::vector<std::array<std::uint64_t, 3>> negatives;
};
[[nodiscard]] dataset_stats compute_stats(const std::vector<coco::loaded_split>& splits,
                                          const html_report_options& options);

// ---- contact sheets ----
struct thumbnail {
  std::string file_name, split, caption;
  std::string data_uri;  // "" when the image could not be read (then `error` says why)
  std::string error;
  int width = 0, height = 0;
};
struct contact_sheet {
  std::string id, title, note;
  std::string color;  // class colour ("" for neutral)
  std::vector<thumbnail> thumbnails;
  std::vector<std::vector<thumbnail>> rows;  // augmentation: one row per original
  std::size_t candidates = 0;
};
[[nodiscard]] std::vector<contact_sheet> make_contact_sheets(
    const std::vector<coco::loaded_split>& splits, const std::vector<std::string>& class_names,
    const html_report_options& options, std::vector<std::string>& warnings);

// Colours shared by charts and thumbnails.
// A class keeps its colour across class sets (IPH is the same red in 6- and 4-class
// pages); unknown names take a palette colour by index.
[[nodiscard]] std::string class_color(std::string_view name, std::size_t index);
void class_rgb(std::string_view name, std::size_t index, std::uint8_t& r, std::uint8_t& g,
               std::uint8_t& b);
[[nodiscard]] std::string split_color(std::string_view split);

}  // namespace ctprep::report::html
