// ctprep evaluate end to end: a dataset and predictions made here, the built binary.
#include <filesystem>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/imaging/codec.hpp"
#include "support/testing.hpp"

namespace ctprep {
namespace {

using testing::make_dataset;
using testing::run_ctprep;

struct dataset_on_disk {
  testing::temp_dir dir;
  std::filesystem::path root = dir / "6class_coco";
  dataset_on_disk() {
    const auto test = make_dataset({{"v3_100_1.png", {{2, {10, 10, 20, 20}}}},
                                    {"v3_100_2.png", {{4, {30, 30, 12, 12}}}},
                                    {"500_1.png", {}},
                                    {"600_2.png", {}}});
    testing::write_split(root / "test", test);
    testing::write_split(root / "train", make_dataset({{"v3_7_1.png", {{0, {1, 1, 5, 5}}}}}));
  }
  std::string write(const std::string& name, const std::string& text) const {
    testing::write_text(dir / name, text);
    return (dir / name).string();
  }
};

// Predictions as a detector would write them for a dataset `ctprep prepare` built: every
// ground-truth box found at 0.9, one false detection at `fp_score` on the first negative.
std::string perfect_predictions(const std::filesystem::path& split_json, double fp_score,
                                std::string* negative_name, std::size_t* positives,
                                std::size_t* negatives) {
  auto gt = coco::read_file(split_json);
  EXPECT_TRUE(gt) << split_json;
  if (!gt) return "[]";
  std::set<std::int64_t> positive_ids;
  std::string json = "[";
  for (const auto& a : gt->annotations) {
    positive_ids.insert(a.image_id);
    json += fmt::format(R"({{"image_id": {}, "category_id": {}, "bbox": [{}, {}, {}, {}], )"
                        R"("score": 0.9}},)",
                        a.image_id, a.category_id, a.bbox.x, a.bbox.y, a.bbox.w, a.bbox.h);
    json += "\n";
  }
  *positives = positive_ids.size();
  *negatives = gt->images.size() - positive_ids.size();
  for (const auto& image : gt->images) {
    if (positive_ids.count(image.id)) continue;
    *negative_name = image.file_name;
    json += fmt::format(R"({{"image_id": {}, "category_id": {}, "bbox": [100, 100, 30, 30], )"
                        R"("score": {}}})",
                        image.id, gt->categories.front().id, fp_score);
    break;
  }
  return json + "]";
}

TEST(cli_evaluate, evaluates_a_release_that_prepare_built_with_a_four_class_comparison) {
  testing::temp_dir dir;
  const auto world = dir / "world";
  ASSERT_EQ(run_ctprep({"synth", "world", "--out", world.string(), "--scale", "demo", "--quiet"})
                .exit_code,
            0);
  const auto prepare = run_ctprep({"prepare", "--data-root", world.string(), "--quiet"});
  ASSERT_EQ(prepare.exit_code, 0) << prepare.err;
  const auto v4 = world / "training_datasets" / "v4";
  std::string negative, unused;
  std::size_t positives = 0, negatives = 0, p4 = 0, n4 = 0;
  testing::write_text(dir / "preds6.json",
                      perfect_predictions(v4 / "6class_coco" / "test" / "_annotations.coco.json",
                                          0.3, &negative, &positives, &negatives));
  testing::write_text(dir / "preds4.json",
                      perfect_predictions(v4 / "4class_coco" / "test" / "_annotations.coco.json",
                                          0.3, &unused, &p4, &n4));
  ASSERT_GT(positives, 0u);
  ASSERT_GT(negatives, 1u);
  ASSERT_FALSE(negative.empty());

  const auto out = dir / "eval";
  const auto r = run_ctprep({"evaluate", "--dataset-dir", (v4 / "6class_coco").string(),
                             "--predictions", (dir / "preds6.json").string(), "--compare-4class",
                             (dir / "preds4.json").string(), "--feedback-csv",
                             (world / "metadata" / "no_hemorrhage_positive_feedback.csv").string(),
                             "--score-threshold", "0.5", "0.2", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The false detection scores below every true one: AP stays 1 in every class.
  EXPECT_NE(
      r.out.find("Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(fmt::format("score >= 0.5: TP {} FP 0 TN {} FN 0", positives, negatives)),
            std::string::npos)
      << r.out;
  EXPECT_NE(
      r.out.find(fmt::format("score >= 0.2: TP {} FP 1 TN {} FN 0", positives, negatives - 1)),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("4-class comparison on " + (v4 / "4class_coco").string()), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  AP                    1.000          1.000"), std::string::npos) << r.out;
  // The false detection is the worst negative, with its slice's feedback class.
  const auto csv = testing::read_text(out / "negatives.csv");
  const auto first = csv.find("\r\n1," + negative + ",");
  ASSERT_NE(first, std::string::npos) << csv;
  const auto line = csv.substr(first + 2, csv.find("\r\n", first + 2) - first - 2);
  EXPECT_TRUE(line.ends_with(",0.3,EDH,0")) << line;
  EXPECT_TRUE(line.find(",tn,") != std::string::npos ||
              line.find(",fp_history,") != std::string::npos)
      << line;
}

TEST(cli_evaluate, writes_metrics_and_every_output_file) {
  dataset_on_disk d;
  const auto preds = d.write("preds.json", R"([
    {"file_name": "v3_100_1.png", "category_id": 2, "bbox": [10, 10, 20, 20], "score": 0.91},
    {"file_name": "v3_100_2.png", "category_id": 4, "bbox": [30, 30, 12, 12], "score": 0.4},
    {"file_name": "500_1.png", "category_id": 5, "bbox": [3, 3, 9, 9], "score": 0.8}])");
  const auto feedback = d.write("fb.csv",
                                "patient_id,instance_no,classification_result,image_url\n"
                                "500,1,False Positive (FP),x\n600,2,True Negative (TN),x\n");
  const auto out = d.dir / "eval";
  const auto r = run_ctprep({"evaluate", "--dataset-dir", d.root.string(), "--predictions", preds,
                             "--score-threshold", "0.5", "0.3", "--feedback-csv", feedback, "--out",
                             out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.out.find("Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 1.000"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("score >= 0.5: TP 1 FP 1 TN 1 FN 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("score >= 0.3: TP 2 FP 1 TN 1 FN 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fp_history            1 images,      1 with a false positive"),
            std::string::npos)
      << r.out;
  for (const char* name :
       {"metrics.json", "per_image.csv", "confusion_matrix.csv", "confusion_matrix.png",
        "negatives.csv", "pr_curves.png", "pr_IPH.png", "pr_SAH.png"}) {
    ASSERT_TRUE(std::filesystem::exists(out / name)) << name;
  }
  for (const char* png : {"confusion_matrix.png", "pr_curves.png", "pr_IPH.png"}) {
    const auto image = imaging::decode_image(testing::read_text(out / png), png);
    ASSERT_TRUE(image) << png;
    EXPECT_EQ(image->channels, 3) << png;
    EXPECT_GT(image->width, 300) << png;
  }
  EXPECT_EQ(testing::read_text(out / "per_image.csv"),
            "file_name,has_hemorrhage,max_score,detections\r\n"
            "v3_100_1.png,1,0.91,1\r\n"
            "v3_100_2.png,1,0.4,1\r\n"
            "500_1.png,0,0.8,1\r\n"
            "600_2.png,0,,0\r\n");

  // --json prints what metrics.json holds.
  const auto j =
      run_ctprep({"evaluate", "--dataset-dir", d.root.string(), "--predictions", preds,
                  "--score-threshold", "0.5", "0.3", "--feedback-csv", feedback, "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(j.out, testing::read_text(out / "metrics.json"));
  // One TP per class: pycocotools gives 1 / (1 + eps), and so do we.
  EXPECT_NE(j.out.find("\"AP50\": 0.99999999999999"), std::string::npos) << j.out;
}

TEST(cli_evaluate, unknown_images_fail_unless_ignored) {
  dataset_on_disk d;
  const auto preds = d.write("preds.json", R"([
    {"image_id": 0, "category_id": 2, "bbox": [10, 10, 20, 20], "score": 0.9},
    {"image_id": 42, "category_id": 2, "bbox": [10, 10, 20, 20], "score": 0.9},
    {"image_id": 0, "category_id": 17, "bbox": [10, 10, 20, 20], "score": 0.9}])");
  const auto bad =
      run_ctprep({"evaluate", "--dataset-dir", d.root.string(), "--predictions", preds});
  EXPECT_EQ(bad.exit_code, 4);
  EXPECT_NE(bad.err.find("name images not in the split (first: 42)"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("category ids not in the dataset (first: 17"), std::string::npos)
      << bad.err;

  const auto ok = run_ctprep(
      {"evaluate", "--dataset-dir", d.root.string(), "--predictions", preds, "--ignore-unknown"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(
      ok.err.find("dropped 1 detection(s) with an unknown image and 1 with an unknown category"),
      std::string::npos)
      << ok.err;
  EXPECT_NE(ok.out.find("1 detections"), std::string::npos) << ok.out;
}

TEST(cli_evaluate, bad_inputs_exit_with_their_codes) {
  dataset_on_disk d;
  const auto nan = d.write(
      "nan.json", R"([{"image_id": 0, "category_id": 2, "bbox": [1, 1, 2, 2], "score": NaN}])");
  auto r = run_ctprep({"evaluate", "--dataset-dir", d.root.string(), "--predictions", nan});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("non-finite number (NaN)"), std::string::npos) << r.err;

  r = run_ctprep({"evaluate", "--dataset-dir", d.root.string(), "--predictions",
                  (d.dir / "missing.json").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;

  testing::write_split(d.root / "valid", make_dataset({}));
  const auto empty = d.write("empty.json", "");
  r = run_ctprep(
      {"evaluate", "--dataset-dir", d.root.string(), "--split", "valid", "--predictions", empty});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("has no images"), std::string::npos) << r.err;

  r = run_ctprep({"evaluate", "--dataset-dir", d.root.string(), "--predictions", empty,
                  "--score-threshold", "1.5"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(cli_evaluate, an_empty_predictions_file_gives_zero_recall) {
  dataset_on_disk d;
  const auto empty = d.write("empty.json", "[]");
  const auto r =
      run_ctprep({"evaluate", "--dataset-dir", d.root.string(), "--predictions", empty, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"AR100\": 0,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"AP\": 0,"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ctprep
