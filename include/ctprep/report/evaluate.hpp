// `evaluate`: detection metrics for a model's predictions on one split of a dataset.
//
// COCO bbox metrics follow pycocotools' COCOeval (evaluate + accumulate + summarize)
// step by step: IoU thresholds 0.50:0.05:0.95 and the 101-point recall grid built the
// way numpy.linspace builds them, maxDets 1/10/100 cut per image and class, area
// ranges all/small/medium/large against the ground truth's `area` field and the
// detection's w*h, crowd boxes matched any number of times with IoU = intersection /
// detection area and ignored, ground truth sorted with ignored boxes last, detections
// sorted by score with a stable sort, precision made monotone and read at the first
// recall >= each grid point (0 past the end of the curve), and -1 (here: nullopt) for a
// class without ground truth. One deliberate difference: pycocotools marks a match by
// storing the ground-truth annotation id, so a match to an annotation with id 0 (ids
// from 0 are common in Roboflow exports) counts as a false positive; here it counts as
// the match it is, unless coco_params::annotation_id_zero_unmatched asks for the defect.
//
// Beyond COCO: image- and patient-level "any hemorrhage" rates with Wilson intervals and
// ROC AUC, a confusion matrix with a background row and column, false positives on
// no-hemorrhage images by feedback class, and a 4-class comparison.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/coco/results.hpp"
#include "ctprep/core/dataset.hpp"
#include "ctprep/core/error.hpp"
#include "ctprep/core/identity.hpp"

namespace ctprep::report {

// ---- COCO metrics -------------------------------------------------------------------

struct coco_params {
  std::vector<double> iou_thresholds;     // np.linspace(.5, .95, 10)
  std::vector<double> recall_thresholds;  // np.linspace(0, 1, 101)
  std::array<int, 3> max_dets{1, 10, 100};
  // all, small, medium, large: [0, 1e10], [0, 32^2], [32^2, 96^2], [96^2, 1e10]
  std::array<std::array<double, 2>, 4> area_ranges{
      {{0, 1e10}, {0, 32.0 * 32}, {32.0 * 32, 96.0 * 96}, {96.0 * 96, 1e10}}};
  // Reproduce pycocotools' id-0 defect (a match to annotation id 0 counts as a false
  // positive), to get the very numbers pycocotools prints for such a dataset.
  bool annotation_id_zero_unmatched = false;
};
[[nodiscard]] coco_params default_coco_params();

inline constexpr std::string_view coco_stat_names[] = {"AP",  "AP50", "AP75",  "APs", "APm", "APl",
                                                       "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};

struct class_metrics {
  std::int64_t category_id = 0;
  std::string name;
  std::uint64_t ground_truth = 0;  // boxes that are not crowd
  std::uint64_t crowd = 0;
  std::uint64_t detections = 0;  // all scores
  // nullopt when the class has no (non-crowd) ground truth in the split: "no GT".
  std::optional<double> ap, ap50, ap75, ar100;
  // Interpolated precision on the recall grid at IoU 0.50 and 0.75 (area all, 100
  // detections): the PR curves. Empty for a "no GT" class.
  std::vector<double> precision50, precision75;
};

struct coco_metrics {
  std::array<std::optional<double>, 12> stats;  // coco_stat_names order; nullopt = -1
  std::vector<class_metrics> classes;           // by category id
  std::vector<double> recall_thresholds;
};

// Detections name images and categories by id; every id must exist in `gt` (resolve
// them first). `jobs` threads (0: all cores); the result does not depend on it.
[[nodiscard]] coco_metrics evaluate_coco(const core::dataset& gt,
                                         std::span<const coco::detection> detections,
                                         const coco_params& params = default_coco_params(),
                                         unsigned jobs = 0);

// ---- Resolving predictions against the dataset ---------------------------------------

struct resolved_predictions {
  std::vector<coco::detection> detections;  // image_id and category_id exist in the dataset
  std::uint64_t unknown_image = 0;          // dropped with ignore_unknown
  std::uint64_t unknown_category = 0;
};

// Maps file names to image ids (name-keyed files) and checks every image and category
// id against the dataset (categories by id). Unknown ones fail with bad_coco naming the
// first few, unless `ignore_unknown`, which drops and counts them.
[[nodiscard]] core::result<resolved_predictions> resolve_predictions(const core::dataset& gt,
                                                                     coco::result_set results,
                                                                     bool ignore_unknown,
                                                                     std::string_view origin);

// ---- Binary "any hemorrhage" ---------------------------------------------------------

struct rate {
  std::uint64_t numerator = 0, denominator = 0;
  std::optional<double> value, low, high;  // Wilson score interval, 95%; nullopt if 0/0
};
[[nodiscard]] rate wilson_rate(std::uint64_t numerator, std::uint64_t denominator);

struct binary_at_threshold {
  double threshold = 0.5;
  std::uint64_t tp = 0, fp = 0, tn = 0, fn = 0;
  rate sensitivity, specificity, ppv, npv;
  std::optional<double> f1;
};

struct binary_metrics {
  std::uint64_t positives = 0, negatives = 0;
  std::optional<double> roc_auc;  // nullopt without both positives and negatives
  std::vector<binary_at_threshold> at;
};

// A unit (image or patient) is predicted positive when its score >= threshold. Scores
// of units without detections are -infinity. ROC AUC is the Mann-Whitney statistic
// (ties count one half).
[[nodiscard]] binary_metrics score_binary(std::span<const double> scores,
                                          std::span<const bool> positive,
                                          std::span<const double> thresholds);

// ---- Confusion matrix ----------------------------------------------------------------

struct confusion_matrix {
  double iou = 0.5, score_threshold = 0.5;
  std::vector<std::string> labels;    // class names, then "background"
  std::vector<std::uint64_t> counts;  // row-major (n+1)^2: row = truth, column = prediction
  [[nodiscard]] std::uint64_t at(std::size_t truth, std::size_t predicted) const {
    return counts[truth * labels.size() + predicted];
  }
};

// Per image: detections with score >= threshold against non-crowd ground truth of any
// class, pairs with IoU >= iou matched one-to-one greedily (highest IoU first; ties by
// ground-truth then detection order). Matched: truth row, predicted column; unmatched
// truth: background column; unmatched detection: background row, except one covering a
// crowd box (intersection / detection area >= iou), which is left out.
[[nodiscard]] confusion_matrix compute_confusion(const core::dataset& gt,
                                                 std::span<const coco::detection> detections,
                                                 double iou, double score_threshold);

// ---- Feedback classes and negatives --------------------------------------------------

enum class feedback_class { fp_history, tn, not_in_feedback };
[[nodiscard]] std::string_view feedback_name(feedback_class c) noexcept;

// From a CSV with patient_id, instance_no and classification_result columns (the
// feedback CSV of SPEC 1, read by pipeline::read_feedback_csv; image_url not needed):
// FP rows -> fp_history, TN rows -> tn; a slice listed as both is fp_history.
[[nodiscard]] core::result<std::map<core::slice_id, feedback_class>> read_feedback_classes(
    const std::filesystem::path& csv_path);

struct negative_group {
  std::string name;  // fp_history, tn, not_in_feedback, all
  std::uint64_t images = 0;
  std::uint64_t images_with_fp = 0;   // at least one detection >= threshold
  std::uint64_t false_positives = 0;  // detections >= threshold
  rate fp_image_rate;
};

struct negative_image {
  std::string file_name;
  std::string feedback;
  double max_score = 0;
  std::string top_class;              // class of the highest-scoring detection
  std::uint64_t false_positives = 0;  // detections >= threshold
};

struct negatives_analysis {
  double score_threshold = 0.5;
  bool feedback_known = false;         // a feedback CSV was given
  std::vector<negative_group> groups;  // fp_history, tn, not_in_feedback, all
  std::vector<negative_image> worst;   // highest max score first
};

// ---- The whole evaluation ------------------------------------------------------------

struct model_summary {
  std::string label;
  std::string predictions;  // file
  std::uint64_t detections = 0;
  coco_metrics coco;
  binary_metrics image_level;
};

struct comparison {
  std::string ground_truth;     // the 4-class dataset dir, or "6-class split collapsed"
  model_summary four_class;     // the 4-class model
  model_summary six_collapsed;  // the 6-class model, EDH/HC dropped
};

struct evaluation {
  std::string dataset_dir, split, predictions;
  std::uint64_t images = 0, annotations = 0, detections = 0;
  std::uint64_t dropped_unknown_image = 0, dropped_unknown_category = 0;
  std::vector<double> score_thresholds;
  coco_metrics coco;
  // Per class (coco.classes order): detections scoring >= the first threshold. For a
  // "no GT" class every one of them is a false positive.
  std::vector<std::uint64_t> class_detections_at_threshold;
  binary_metrics image_level;
  binary_metrics patient_level;
  std::uint64_t patients = 0;
  std::vector<std::string> unidentified_images;  // no patient id: left out of patient level
  confusion_matrix confusion;
  negatives_analysis negatives;
  std::optional<comparison> compare;
  // per image, in dataset order: for per_image.csv
  struct image_row {
    std::string file_name;
    bool positive = false;
    double max_score = 0;  // -inf without detections
    std::uint64_t detections = 0;
  };
  std::vector<image_row> per_image;
};

struct evaluate_request {
  std::filesystem::path dataset_dir;
  std::string split = "test";
  std::filesystem::path predictions;
  std::vector<double> score_thresholds{0.5};
  double iou = 0.5;  // confusion matrix
  std::filesystem::path feedback_csv;
  std::filesystem::path compare_predictions;  // 4-class model's predictions
  std::filesystem::path dataset_4class_dir;   // default: derived from dataset_dir
  bool ignore_unknown = false;
  bool pycocotools_id0 = false;  // coco_params::annotation_id_zero_unmatched
  std::size_t worst = 20;
  unsigned jobs = 0;
};

[[nodiscard]] core::result<evaluation> evaluate(const evaluate_request& request);

[[nodiscard]] std::string to_text(const evaluation& e);
[[nodiscard]] std::string to_json(const evaluation& e);

// Writes metrics.json, per_image.csv, confusion_matrix.csv/.png, negatives.csv,
// pr_curves.png and pr_<class>.png into `out_dir` (layout in docs/cli.md).
[[nodiscard]] core::result<std::vector<std::filesystem::path>> write_outputs(
    const evaluation& e, const std::filesystem::path& out_dir);

}  // namespace ctprep::report
