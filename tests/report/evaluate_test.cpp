// The parts of evaluate around COCOeval: resolving predictions, binary rates, the
// confusion matrix, feedback classes, and evaluate() on datasets written to disk.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/report/evaluate.hpp"
#include "support/testing.hpp"

namespace ctprep::report {
namespace {

using coco::detection;
using core::box;
using testing::make_dataset;
using testing::test_image;

detection det(std::int64_t image, std::int64_t category, box b, double score) {
  detection d;
  d.image_id = image;
  d.category_id = category;
  d.bbox = b;
  d.score = score;
  return d;
}

TEST(evaluate_resolve, maps_file_names_to_image_ids) {
  const auto gt = make_dataset({{"1_1.png", {}}, {"1_2.png", {}}});
  auto results = coco::parse_results(
      R"([{"file_name": "1_2.png", "category_id": 4, "bbox": [1, 2, 3, 4], "score": 0.5}])", "p");
  ASSERT_TRUE(results);
  auto r = resolve_predictions(gt, *results, false, "p");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->detections.size(), 1u);
  EXPECT_EQ(r->detections[0].image_id, 1);
  EXPECT_EQ(r->detections[0].category_id, 4);
}

TEST(evaluate_resolve, unknown_images_and_categories_fail_naming_the_first_few) {
  const auto gt = make_dataset({{"1_1.png", {}}});
  std::string json = "[";
  for (int i = 0; i < 8; ++i) {
    json += fmt::format(
        R"({{"image_id": {}, "category_id": 0, "bbox": [1, 2, 3, 4], "score": 0.5}},)", 100 + i);
  }
  json += R"({"image_id": 0, "category_id": 9, "bbox": [1, 2, 3, 4], "score": 0.5},)";
  json += R"({"image_id": 0, "category_id": 0, "bbox": [1, 2, 3, 4], "score": 0.5}])";
  auto results = coco::parse_results(json, "p.json");
  ASSERT_TRUE(results);
  auto r = resolve_predictions(gt, *results, false, "p.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::error_code::bad_coco);
  const auto& m = r.error().message;
  EXPECT_NE(m.find("8 detection(s) name images not in the split (first: 100, 101, 102, 103, 104)"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("105"), std::string::npos) << m;
  EXPECT_NE(m.find("1 detection(s) name category ids not in the dataset (first: 9"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("--ignore-unknown"), std::string::npos) << m;

  auto kept = resolve_predictions(gt, *results, true, "p.json");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->detections.size(), 1u);
  EXPECT_EQ(kept->unknown_image, 8u);
  EXPECT_EQ(kept->unknown_category, 1u);
}

TEST(evaluate_resolve, unknown_file_names_are_named) {
  const auto gt = make_dataset({{"1_1.png", {}}});
  auto results = coco::parse_results(
      R"([{"file_name": "9_9.png", "category_id": 0, "bbox": [1, 2, 3, 4], "score": 0.5}])", "p");
  ASSERT_TRUE(results);
  auto r = resolve_predictions(gt, *results, false, "p");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'9_9.png'"), std::string::npos) << r.error().message;
}

TEST(evaluate_binary, wilson_interval_matches_the_textbook_values) {
  const auto r = wilson_rate(8, 10);
  EXPECT_DOUBLE_EQ(*r.value, 0.8);
  EXPECT_NEAR(*r.low, 0.4901624715366418, 1e-12);
  EXPECT_NEAR(*r.high, 0.9433178485456248, 1e-12);
  const auto zero = wilson_rate(0, 10);
  EXPECT_EQ(*zero.low, 0.0);
  EXPECT_NEAR(*zero.high, 0.2775327998628892, 1e-12);
  EXPECT_FALSE(wilson_rate(0, 0).value);
}

TEST(evaluate_binary, counts_rates_and_roc_auc) {
  const double none = -std::numeric_limits<double>::infinity();
  // positives: .9 .6 .3 none; negatives: .7 .2 none none
  const std::vector<double> scores = {0.9, 0.6, 0.3, none, 0.7, 0.2, none, none};
  const bool positive[] = {true, true, true, true, false, false, false, false};
  const double thresholds[] = {0.5, 0.25};
  const auto b = score_binary(scores, positive, thresholds);
  EXPECT_EQ(b.positives, 4u);
  EXPECT_EQ(b.negatives, 4u);
  // Pairs (pos > neg): .9 beats 4, .6 beats 3, .3 beats 3, none ties 2 (half each).
  EXPECT_DOUBLE_EQ(*b.roc_auc, (4 + 3 + 3 + 1.0) / 16);
  ASSERT_EQ(b.at.size(), 2u);
  EXPECT_EQ(b.at[0].tp, 2u);
  EXPECT_EQ(b.at[0].fn, 2u);
  EXPECT_EQ(b.at[0].fp, 1u);
  EXPECT_EQ(b.at[0].tn, 3u);
  EXPECT_DOUBLE_EQ(*b.at[0].sensitivity.value, 0.5);
  EXPECT_DOUBLE_EQ(*b.at[0].specificity.value, 0.75);
  EXPECT_DOUBLE_EQ(*b.at[0].ppv.value, 2.0 / 3);
  EXPECT_DOUBLE_EQ(*b.at[0].npv.value, 0.6);
  EXPECT_DOUBLE_EQ(*b.at[0].f1, 4.0 / 7);
  EXPECT_EQ(b.at[1].tp, 3u);
  EXPECT_EQ(b.at[1].fp, 1u);
}

TEST(evaluate_binary, undefined_rates_stay_undefined) {
  const double scores[] = {0.1, 0.2};
  const bool positive[] = {false, false};
  const double thresholds[] = {0.5};
  const auto b = score_binary(scores, positive, thresholds);
  EXPECT_FALSE(b.roc_auc);
  EXPECT_FALSE(b.at[0].sensitivity.value);
  EXPECT_FALSE(b.at[0].ppv.value);
  EXPECT_FALSE(b.at[0].f1);
  EXPECT_DOUBLE_EQ(*b.at[0].specificity.value, 1.0);
}

TEST(evaluate_confusion, counts_matches_confusions_misses_and_background) {
  auto gt =
      make_dataset({{"1_1.png", {{2, {0, 0, 20, 20}}, {3, {30, 30, 20, 20}}, {4, {5, 40, 10, 10}}}},
                    {"1_2.png", {}}},
                   false, 64);
  gt.annotations.push_back({99, 0, 5, {40, 0, 20, 20}, 400, 1, {}});  // a crowd SDH region
  const std::vector<detection> dets = {
      det(0, 2, {0, 0, 20, 20}, 0.9),     // IPH on IPH
      det(0, 4, {30, 30, 20, 20}, 0.8),   // SAH on IVH: confusion
      det(0, 2, {1, 1, 20, 20}, 0.7),     // duplicate of IPH: background row
      det(0, 5, {42, 2, 10, 10}, 0.9),    // inside the crowd region: left out
      det(1, 0, {10, 10, 10, 10}, 0.95),  // EDH on an empty image
      det(1, 1, {10, 10, 10, 10}, 0.2),   // below the threshold
  };
  const auto cm = compute_confusion(gt, dets, 0.5, 0.5);
  ASSERT_EQ(cm.labels.size(), 7u);
  EXPECT_EQ(cm.labels.back(), "background");
  EXPECT_EQ(cm.at(2, 2), 1u);  // IPH -> IPH
  EXPECT_EQ(cm.at(3, 4), 1u);  // IVH -> SAH
  EXPECT_EQ(cm.at(4, 6), 1u);  // SAH missed
  EXPECT_EQ(cm.at(6, 2), 1u);  // background -> IPH (duplicate)
  EXPECT_EQ(cm.at(6, 0), 1u);  // background -> EDH
  std::uint64_t total = 0;
  for (auto c : cm.counts) total += c;
  EXPECT_EQ(total, 5u);
}

TEST(evaluate_feedback, maps_fp_rows_to_fp_history_and_tn_rows_to_tn) {
  testing::temp_dir dir;
  testing::write_text(
      dir / "f.csv",
      "\xEF\xBB\xBFpatient_id,instance_no,classification_result\r\n"
      "007,3,False Positive (FP)\r\n8,4,True Negative (TN)\r\n"
      "8,4,False Positive (FP)\r\n9,5,Something else\r\n10,6,True Negative (TN)\r\n");
  auto f = read_feedback_classes(dir / "f.csv");
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ(f->at({"7", "3"}), feedback_class::fp_history);
  EXPECT_EQ(f->at({"8", "4"}), feedback_class::fp_history);  // FP outranks TN
  EXPECT_EQ(f->at({"10", "6"}), feedback_class::tn);
}

TEST(evaluate_feedback, a_missing_column_is_named) {
  testing::temp_dir dir;
  testing::write_text(dir / "f.csv", "patient_id,classification_result\n1,x\n");
  auto f = read_feedback_classes(dir / "f.csv");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, core::error_code::bad_csv);
  EXPECT_NE(f.error().message.find("instance_no"), std::string::npos) << f.error().message;
}

// ---- evaluate() on a dataset on disk -------------------------------------------------

struct fixture {
  testing::temp_dir dir;
  std::filesystem::path root = dir / "6class_coco";
  core::dataset test;
  fixture() {
    // Patient 100: two positive slices; patient 200: a negative slice (FP history in the
    // feedback), patient 300: a negative slice (TN), patient 400: one negative slice
    // not in the feedback.
    test = make_dataset(
        {{"v3_100_1.png", {{2, {10, 10, 20, 20}}}},
         {"roboflow_100_2_png.rf.abc.jpg", {{0, {5, 5, 30, 30}}, {4, {40, 40, 10, 10}}}},
         {"200_1.png", {}},
         {"300_1.png", {}},
         {"400_7.png", {}}});
    testing::write_split(root / "test", test);
    testing::write_text(dir / "feedback.csv",
                        "patient_id,instance_no,classification_result,image_url\n"
                        "200,1,False Positive (FP),u\n300,1,True Negative (TN),u\n");
  }
  std::filesystem::path predictions(const std::string& json) const {
    testing::write_text(dir / "preds.json", json);
    return dir / "preds.json";
  }
};

TEST(evaluate_dataset, computes_every_section) {
  fixture f;
  evaluate_request r;
  r.dataset_dir = f.root;
  r.feedback_csv = f.dir / "feedback.csv";
  r.predictions = f.predictions(R"([
    {"image_id": 0, "category_id": 2, "bbox": [10, 10, 20, 20], "score": 0.9},
    {"image_id": 1, "category_id": 0, "bbox": [5, 5, 30, 30], "score": 0.8},
    {"image_id": 2, "category_id": 4, "bbox": [1, 1, 9, 9], "score": 0.7},
    {"image_id": 2, "category_id": 1, "bbox": [20, 1, 9, 9], "score": 0.6},
    {"image_id": 3, "category_id": 4, "bbox": [1, 1, 9, 9], "score": 0.3}])");
  r.score_thresholds = {0.5, 0.25};
  auto e = evaluate(r);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->images, 5u);
  EXPECT_EQ(e->detections, 5u);
  // Image level at 0.5: positives 0, 1 found; negatives: 2 has a detection >= .5.
  const auto& at = e->image_level.at[0];
  EXPECT_EQ(at.tp, 2u);
  EXPECT_EQ(at.fn, 0u);
  EXPECT_EQ(at.fp, 1u);
  EXPECT_EQ(at.tn, 2u);
  EXPECT_EQ(e->image_level.at[1].fp, 2u);
  // Patients: 100 positive, 200/300/400 negative.
  EXPECT_EQ(e->patients, 4u);
  EXPECT_EQ(e->patient_level.positives, 1u);
  EXPECT_EQ(e->patient_level.at[0].fp, 1u);
  EXPECT_DOUBLE_EQ(*e->patient_level.roc_auc, 1.0);
  // Classes: EDH (0) and IPH (2) found; HC (1) has no GT and one FP >= .5.
  EXPECT_FALSE(e->coco.classes[1].ap);
  EXPECT_EQ(e->class_detections_at_threshold[1], 1u);
  EXPECT_NEAR(*e->coco.classes[2].ap, 1.0, 1e-12);
  // Negatives by feedback class.
  const auto& g = e->negatives.groups;
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g[0].name, "fp_history");
  EXPECT_EQ(g[0].images, 1u);
  EXPECT_EQ(g[0].images_with_fp, 1u);
  EXPECT_EQ(g[0].false_positives, 2u);
  EXPECT_EQ(g[1].name, "tn");
  EXPECT_EQ(g[1].images, 1u);
  EXPECT_EQ(g[1].images_with_fp, 0u);
  EXPECT_EQ(g[2].images, 1u);
  EXPECT_EQ(g[3].images, 3u);
  ASSERT_EQ(e->negatives.worst.size(), 2u);
  EXPECT_EQ(e->negatives.worst[0].file_name, "200_1.png");
  EXPECT_EQ(e->negatives.worst[0].top_class, "SAH");
  EXPECT_EQ(e->negatives.worst[0].feedback, "fp_history");
  EXPECT_EQ(e->negatives.worst[1].feedback, "tn");
  // Confusion at .5: IPH, EDH matched; SAH box missed; two detections on image 2.
  EXPECT_EQ(e->confusion.at(0, 0), 1u);
  EXPECT_EQ(e->confusion.at(4, 6), 1u);
  EXPECT_EQ(e->confusion.at(6, 4), 1u);
  EXPECT_EQ(e->confusion.at(6, 1), 1u);

  testing::temp_dir out;
  auto files = write_outputs(*e, out.path());
  ASSERT_TRUE(files) << files.error().message;
  for (const char* name :
       {"metrics.json", "per_image.csv", "confusion_matrix.csv", "confusion_matrix.png",
        "negatives.csv", "pr_curves.png", "pr_EDH.png", "pr_IPH.png", "pr_SAH.png"}) {
    EXPECT_TRUE(std::filesystem::exists(out / name)) << name;
  }
  EXPECT_FALSE(std::filesystem::exists(out / "pr_HC.png"));  // no GT, no curve
  const auto cm_csv = testing::read_text(out / "confusion_matrix.csv");
  EXPECT_EQ(cm_csv.substr(0, cm_csv.find('\n') + 1),
            "truth\\predicted,EDH,HC,IPH,IVH,SAH,SDH,background\r\n");
  EXPECT_NE(cm_csv.find("background,0,1,0,0,1,0,0\r\n"), std::string::npos) << cm_csv;
  EXPECT_EQ(testing::read_text(out / "negatives.csv"),
            "rank,file_name,feedback,max_score,top_class,false_positives\r\n"
            "1,200_1.png,fp_history,0.7,SAH,2\r\n"
            "2,300_1.png,tn,0.3,SAH,0\r\n");
  EXPECT_EQ(to_json(*e), testing::read_text(out / "metrics.json"));
}

TEST(evaluate_dataset, an_empty_predictions_file_gives_defined_zero_metrics) {
  fixture f;
  evaluate_request r;
  r.dataset_dir = f.root;
  r.predictions = f.predictions("[]");
  auto e = evaluate(r);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(*e->coco.stats[0], 0.0);
  EXPECT_EQ(*e->coco.stats[8], 0.0);  // AR100
  EXPECT_DOUBLE_EQ(*e->image_level.at[0].sensitivity.value, 0.0);
  EXPECT_DOUBLE_EQ(*e->image_level.at[0].specificity.value, 1.0);
  EXPECT_DOUBLE_EQ(*e->image_level.roc_auc, 0.5);
  EXPECT_FALSE(e->image_level.at[0].ppv.value);
  EXPECT_NE(to_text(*e).find(
                "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.000"),
            std::string::npos);
}

TEST(evaluate_dataset, a_split_without_images_is_an_error) {
  fixture f;
  core::dataset empty = make_dataset({});
  testing::write_split(f.root / "valid", empty);
  evaluate_request r;
  r.dataset_dir = f.root;
  r.split = "valid";
  r.predictions = f.predictions("[]");
  auto e = evaluate(r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, core::error_code::bad_coco);
  EXPECT_NE(e.error().message.find("split 'valid'"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("has no images"), std::string::npos) << e.error().message;
}

TEST(evaluate_dataset, a_missing_split_names_the_ones_there) {
  fixture f;
  evaluate_request r;
  r.dataset_dir = f.root;
  r.split = "train";
  r.predictions = f.predictions("[]");
  auto e = evaluate(r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, core::error_code::not_found);
  EXPECT_NE(e.error().message.find("it has: test"), std::string::npos) << e.error().message;
}

TEST(evaluate_dataset, compares_a_four_class_model_with_the_six_class_model_collapsed) {
  fixture f;
  // The 4-class sibling: the EDH-only image and its box are gone... here image 1 keeps its
  // SAH box; categories IPH IVH SAH SDH = 0..3.
  core::dataset four = make_dataset({{"v3_100_1.png", {{0, {10, 10, 20, 20}}}},
                                     {"roboflow_100_2_png.rf.abc.jpg", {{2, {40, 40, 10, 10}}}},
                                     {"200_1.png", {}},
                                     {"300_1.png", {}},
                                     {"400_7.png", {}}},
                                    true);
  testing::write_split(f.dir / "4class_coco" / "test", four);
  evaluate_request r;
  r.dataset_dir = f.root;
  r.predictions = f.predictions(R"([
    {"image_id": 0, "category_id": 2, "bbox": [10, 10, 20, 20], "score": 0.9},
    {"image_id": 1, "category_id": 0, "bbox": [5, 5, 30, 30], "score": 0.8},
    {"image_id": 1, "category_id": 4, "bbox": [40, 40, 10, 10], "score": 0.8}])");
  testing::write_text(f.dir / "preds4.json", R"([
    {"file_name": "v3_100_1.png", "category_id": 0, "bbox": [10, 10, 20, 20], "score": 0.9}])");
  r.compare_predictions = f.dir / "preds4.json";
  auto e = evaluate(r);
  ASSERT_TRUE(e) << e.error().message;
  ASSERT_TRUE(e->compare);
  EXPECT_EQ(e->compare->ground_truth, (f.dir / "4class_coco").string());
  // The 6-class model finds IPH and SAH (its EDH box is dropped): AP 1 on both classes.
  EXPECT_EQ(e->compare->six_collapsed.detections, 2u);
  EXPECT_NEAR(*e->compare->six_collapsed.coco.stats[0], 1.0, 1e-12);
  // The 4-class model finds IPH only: IPH 1, SAH 0.
  EXPECT_NEAR(*e->compare->four_class.coco.classes[0].ap, 1.0, 1e-12);
  EXPECT_EQ(*e->compare->four_class.coco.classes[2].ap, 0.0);
  EXPECT_NEAR(*e->compare->four_class.coco.stats[0], 0.5, 1e-12);
}

TEST(evaluate_dataset, compares_on_the_collapsed_split_without_a_four_class_folder) {
  fixture f;
  evaluate_request r;
  r.dataset_dir = f.root;
  r.predictions = f.predictions("[]");
  testing::write_text(f.dir / "preds4.json", "[]");
  r.compare_predictions = f.dir / "preds4.json";
  auto e = evaluate(r);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->compare->ground_truth, "the 6-class split collapsed to 4 classes");
  // Image 1 keeps its SAH box; every image stays.
  EXPECT_EQ(e->compare->four_class.image_level.positives, 2u);
  EXPECT_EQ(e->compare->four_class.image_level.negatives, 3u);
}

}  // namespace
}  // namespace ctprep::report
