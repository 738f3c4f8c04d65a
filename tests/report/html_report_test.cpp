#include "ctprep/report/html_report.hpp"

#include <algorithm>
#include <regex>

#include <gtest/gtest.h>

#include "ctprep/report/analyze.hpp"
#include "support/testing.hpp"

namespace ctprep::report {
namespace {

namespace fs = std::filesystem;
using testing::test_image;

// train: patient 100 (IPH + SAH slice, a negative) with 3 versions each, patient 200
// (SDH); valid: patient 300 (IPH) and a pool negative; test: patient 400 (EDH), and
// patient 100 again (a leak the page must show).
void write_fixture(const fs::path& root) {
  std::vector<test_image> train;
  for (int k = 0; k < 3; ++k) {
    const auto aug = "_aug" + std::to_string(k);
    train.push_back(
        {"v3_thick_100_1" + aug + ".png", {{2, {4, 4, 20, 16}}, {4, {30, 30, 10, 10}}}});
    train.push_back({"v3_thin_100_2" + aug + ".png", {}});
  }
  train.push_back({"roboflow_200_7_png.rf.abc.png", {{5, {10, 10, 30, 12}}}});
  testing::write_split(root / "train", testing::make_dataset(train));
  testing::write_split(root / "valid", testing::make_dataset({{"v3_300_4.png", {{2, {1, 1, 8, 8}}}},
                                                              {"555_9.png", {}}}));
  testing::write_split(root / "test", testing::make_dataset({{"v3_400_1.png", {{0, {2, 2, 9, 9}}}},
                                                             {"v3_100_8.png", {}}}));
}

html_report_options options_for(const fs::path& root) {
  html_report_options o;
  o.dataset_dir = root;
  o.output = root / "report.html";
  o.jobs = 1;
  return o;
}

std::string value_of(const std::string& page, const std::string& key) {
  const std::regex re("data-k=\"" + key + "\">([^<]*)<");
  std::smatch m;
  if (!std::regex_search(page, m, re)) return "<missing " + key + ">";
  return m[1];
}

TEST(contact_sheet_picker, is_deterministic_for_a_seed_and_independent_of_key_order) {
  std::vector<std::string> keys;
  for (int i = 0; i < 50; ++i) keys.push_back("train/v3_" + std::to_string(i) + "_1.png");
  const auto a = pick_samples(keys, 5, 42, "class:IPH");
  EXPECT_EQ(a, pick_samples(keys, 5, 42, "class:IPH"));
  ASSERT_EQ(a.size(), 5u);
  std::vector<std::string> chosen;
  for (auto i : a) chosen.push_back(keys[i]);

  auto reversed = keys;
  std::reverse(reversed.begin(), reversed.end());
  std::vector<std::string> chosen_reversed;
  for (auto i : pick_samples(reversed, 5, 42, "class:IPH")) chosen_reversed.push_back(reversed[i]);
  EXPECT_EQ(chosen, chosen_reversed);

  EXPECT_NE(a, pick_samples(keys, 5, 43, "class:IPH"));
  EXPECT_NE(a, pick_samples(keys, 5, 42, "class:SAH"));
  // Asking for fewer keeps a prefix of the same draw.
  const auto three = pick_samples(keys, 3, 42, "class:IPH");
  EXPECT_TRUE(std::equal(three.begin(), three.end(), a.begin()));
}

TEST(contact_sheet_picker, handles_too_few_and_no_keys) {
  const std::vector<std::string> keys{"a", "b", "a"};
  auto all = pick_samples(keys, 10, 1, "x");
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_TRUE(pick_samples({}, 3, 1, "x").empty());
  EXPECT_TRUE(pick_samples(keys, 0, 1, "x").empty());
}

TEST(html_report, shows_the_analyze_numbers_and_every_dataset_section) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  html_report_result info;
  auto page = render_html_report(options_for(dir.path()), &info);
  ASSERT_TRUE(page) << page.error().message;
  auto a = analyze_dataset(dir.path());
  ASSERT_TRUE(a);
  for (const auto& s : a->splits) {
    EXPECT_EQ(value_of(*page, s.name + ".images"), std::to_string(s.images));
    EXPECT_EQ(value_of(*page, s.name + ".originals"), std::to_string(s.originals));
    EXPECT_EQ(value_of(*page, s.name + ".augmented"), std::to_string(s.augmented));
    EXPECT_EQ(value_of(*page, s.name + ".patients"), std::to_string(s.patients));
    EXPECT_EQ(value_of(*page, s.name + ".images_without_hemorrhage"),
              std::to_string(s.images_without_hemorrhage));
  }
  EXPECT_EQ(value_of(*page, "train.images"), "7");
  EXPECT_EQ(value_of(*page, "train.class.IPH.annotations"), "3");
  EXPECT_EQ(value_of(*page, "total.patients"), "5");
  EXPECT_EQ(value_of(*page, "overlap.train.test"), "1");
  EXPECT_EQ(value_of(*page, "total.patients_in_several_splits"), "1");
  EXPECT_EQ(value_of(*page, "test.class_patients.EDH"), "1");
  EXPECT_EQ(info.sections,
            (std::vector<std::string>{"summary", "splits", "classes", "patients", "sheets"}));
  // Thumbnails: IPH 2 originals, SAH 1, SDH 1, EDH 1, negatives 3, augmentation 2 rows x 3.
  EXPECT_EQ(info.thumbnails, 2u + 1 + 1 + 1 + 3 + 6);
  EXPECT_TRUE(info.warnings.empty());
  // Self-contained: no external reference of any kind, no script.
  EXPECT_EQ(page->find("<script"), std::string::npos);
  for (const auto* external : {"src=\"http", "href=\"http", "src=\"file", "url(", "@import"}) {
    EXPECT_EQ(page->find(external), std::string::npos) << external;
  }
  EXPECT_NE(page->find("Content-Security-Policy"), std::string::npos);
  EXPECT_NE(page->find("data:image/jpeg;base64,"), std::string::npos);
  EXPECT_NE(page->find("FP vs TN negatives: not known"), std::string::npos);
  EXPECT_NE(page->find("not recorded"), std::string::npos);
}

TEST(html_report, same_inputs_and_seed_give_the_same_bytes_whatever_the_jobs) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  auto o = options_for(dir.path());
  auto one = render_html_report(o);
  o.jobs = 3;
  auto three = render_html_report(o);
  ASSERT_TRUE(one && three);
  EXPECT_EQ(*one, *three);
  o.seed = 7;
  o.samples_per_class = 1;
  auto other = render_html_report(o);
  ASSERT_TRUE(other);
  EXPECT_NE(*one, *other);
}

TEST(html_report, header_comes_from_metadata_yaml_and_source_date_epoch) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  testing::write_text(dir / "metadata.yaml",
                      "ctprep_metadata: 1\nversion: v4\ntype: 6class\nvariant: augmented\n"
                      "seed: 42\ntool_version: 0.1.0\nrecipe_digest: sha256:abc123\n"
                      "balance:\n  target_ratio: 0.4\n  per_split:\n"
                      "    train: {added_fp: 2, added_tn: 5}\n");
  ::setenv("SOURCE_DATE_EPOCH", "1767225600", 1);
  auto page = render_html_report(options_for(dir.path()));
  ::unsetenv("SOURCE_DATE_EPOCH");
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_NE(page->find("data-h=\"version\" title=\"v4\">v4<"), std::string::npos);
  EXPECT_NE(page->find("data-h=\"type\" title=\"6class · augmented\">6class · augmented<"),
            std::string::npos);
  EXPECT_NE(page->find("data-h=\"recipe_digest\" title=\"sha256:abc123\">sha256:abc123<"),
            std::string::npos);
  EXPECT_NE(page->find("data-h=\"seed\" title=\"42\">42<"), std::string::npos);
  EXPECT_NE(page->find("data-h=\"date\" title=\"2026-01-01T00:00:00Z\">2026-01-01T00:00:00Z<"),
            std::string::npos);
  EXPECT_NE(page->find(">target 40%<"), std::string::npos);
  EXPECT_NE(page->find("Negatives added by balancing"), std::string::npos);
}

TEST(html_report, splits_negatives_into_fp_and_tn_with_feedback) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  auto o = options_for(dir.path());
  o.feedback[{"100", "2"}] = negative_kind::fp;
  o.feedback[{"555", "9"}] = negative_kind::tn;
  auto page = render_html_report(o);
  ASSERT_TRUE(page);
  EXPECT_EQ(value_of(*page, "train.negatives_fp"), "1");
  EXPECT_EQ(value_of(*page, "train.negatives_tn"), "0");
  EXPECT_EQ(value_of(*page, "valid.negatives_tn"), "1");
  EXPECT_NE(page->find("No-hemorrhage originals by feedback class"), std::string::npos);
}

TEST(html_report, shows_validation_rules_and_findings_from_validate_json) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  testing::write_text(dir / "validation.json", R"({
  "dataset_dir": "x", "kind": "6class augmented", "passed": false, "errors": 1, "warnings": 0,
  "rules": [
    {"id": "coco", "title": "COCO format validity", "status": "passed", "errors": 0, "warnings": 0,
     "lines": [{"status": "pass", "text": "Train: valid COCO"}], "notes": []},
    {"id": "leakage", "title": "Patient leakage", "status": "failed", "errors": 1, "warnings": 0,
     "lines": [{"status": "fail", "text": "Train/Test share 1 patient"}], "notes": ["a note <i>"]}
  ],
  "findings": [{"rule": "leakage", "severity": "error", "split": "test", "file": "v3_100_8.png",
                "message": "patient 100 is also in train"}]
})");
  auto o = options_for(dir.path());
  o.validation_json = dir / "validation.json";
  html_report_result info;
  auto page = render_html_report(o, &info);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(info.sections.back(), "validation");
  EXPECT_NE(page->find("✗ FAILED"), std::string::npos);
  EXPECT_NE(page->find("data-rule=\"coco\"><h4><span class=\"ok\">✓</span> COCO format validity"),
            std::string::npos);
  EXPECT_NE(page->find("data-rule=\"leakage\"><h4><span class=\"bad\">✗</span> Patient leakage"),
            std::string::npos);
  EXPECT_NE(page->find("patient 100 is also in train"), std::string::npos);
  EXPECT_NE(page->find("note: a note &lt;i&gt;"), std::string::npos);

  testing::write_text(dir / "bad.json", "{\"rules\": [");
  o.validation_json = dir / "bad.json";
  EXPECT_EQ(render_html_report(o).error().code, core::error_code::malformed_json);
  testing::write_text(dir / "other.json", "[1, 2]");
  o.validation_json = dir / "other.json";
  EXPECT_EQ(render_html_report(o).error().code, core::error_code::bad_argument);
  o.validation_json = dir / "absent.json";
  EXPECT_EQ(render_html_report(o).error().code, core::error_code::not_found);
}

TEST(html_report, shows_evaluation_metrics_confusion_and_pr_curves) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  testing::write_text(dir / "eval" / "metrics.json", R"({
  "dataset_dir": "x", "split": "test", "predictions": "p.json", "images": 2, "annotations": 1,
  "detections": 3, "score_thresholds": [0.5], "recall_thresholds": [0, 0.5, 1],
  "coco": {"summary": {"AP": 0.5, "AP50": 0.75, "AP75": null},
           "classes": [{"category_id": 0, "name": "EDH", "no_gt": false, "ground_truth": 1,
                        "detections": 2, "AP": 0.5, "AP50": 0.75, "AP75": 0.25, "AR100": 1,
                        "precision50": [1, 0.8, 0.5], "precision75": [0.5, 0.2, 0]},
                       {"category_id": 1, "name": "HC", "no_gt": true, "ground_truth": 0,
                        "detections": 1, "AP": null, "precision50": [], "precision75": []}]},
  "image_level": {"positives": 1, "negatives": 1, "roc_auc": 1,
                  "thresholds": [{"score_threshold": 0.5, "tp": 1, "fp": 0, "tn": 1, "fn": 0,
                                  "sensitivity": {"value": 1}, "specificity": {"value": 1},
                                  "ppv": {"value": 1}, "npv": {"value": 1}, "f1": 1}]},
  "confusion_matrix": {"iou": 0.5, "score_threshold": 0.5, "labels": ["EDH", "HC", "background"],
                       "counts": [[1, 0, 0], [0, 0, 0], [0, 1, 0]]},
  "negatives": {"groups": [{"name": "all", "images": 1, "images_with_fp": 0, "false_positives": 0}]}
})");
  testing::write_text(dir / "eval" / "per_image.csv", "x\n");
  auto o = options_for(dir.path());
  o.evaluation_dir = dir / "eval";
  html_report_result info;
  auto page = render_html_report(o, &info);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(info.sections.back(), "evaluation");
  EXPECT_NE(page->find("Confusion matrix (IoU ≥ 0.50, score ≥ 0.50)"), std::string::npos);
  EXPECT_NE(page->find("EDH → EDH: 1 (100.0% of row)"), std::string::npos);
  EXPECT_NE(page->find("Precision–recall, IoU 0.50"), std::string::npos);
  EXPECT_NE(page->find("EDH (AP50 0.75)"), std::string::npos);
  EXPECT_NE(page->find(">no GT<"), std::string::npos);
  EXPECT_NE(page->find("<code>per_image.csv</code>"), std::string::npos);
  EXPECT_NE(page->find("ROC AUC 1.000"), std::string::npos);

  o.evaluation_dir = dir / "nowhere";
  EXPECT_EQ(render_html_report(o).error().code, core::error_code::not_found);
}

TEST(html_report, an_unreadable_image_is_a_warning_not_a_broken_page) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  testing::write_text(dir / "valid" / "v3_300_4.png", "not a png");
  html_report_result info;
  auto page = render_html_report(options_for(dir.path()), &info);
  ASSERT_TRUE(page);
  ASSERT_EQ(info.warnings.size(), 1u);
  EXPECT_NE(info.warnings[0].find("v3_300_4.png"), std::string::npos);
  EXPECT_NE(page->find("<figure class=\"missing \""), std::string::npos);
}

TEST(html_report, fails_like_analyze_on_a_missing_dataset_and_writes_atomically) {
  testing::temp_dir dir;
  auto o = options_for(dir / "absent");
  o.output = dir / "out" / "report.html";
  EXPECT_EQ(write_html_report(o).error().code, core::error_code::not_found);
  EXPECT_FALSE(fs::exists(o.output));

  write_fixture(dir / "ds");
  o.dataset_dir = dir / "ds";
  auto r = write_html_report(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->output, o.output);
  EXPECT_EQ(r->bytes, fs::file_size(o.output));
  o.thumbnail_side = 4;
  EXPECT_EQ(write_html_report(o).error().code, core::error_code::bad_argument);
}

}  // namespace
}  // namespace ctprep::report
