#include "ctprep/report/analyze.hpp"

#include <gtest/gtest.h>

#include "support/testing.hpp"

namespace ctprep::report {
namespace {

using testing::test_image;

// train: 2 originals x 3 versions (one with EDH+SAH, one negative) + a roboflow image;
// valid: one patient also in train (a leak) and one pool image; test: a 4th patient.
void write_fixture(const std::filesystem::path& root) {
  std::vector<test_image> train;
  for (int k = 0; k < 3; ++k) {
    const auto aug = "_aug" + std::to_string(k);
    train.push_back({"v3_thick_100_1" + aug + ".jpg",
                     {{0, {1, 1, 5, 5}}, {4, {2, 2, 5, 5}}, {4, {9, 9, 3, 3}}}});
    train.push_back({"v3_thin_100_2" + aug + ".jpg", {}});
  }
  train.push_back({"roboflow_200_7_png.rf.abc_aug0.jpg", {{5, {0, 0, 4, 4}}}});
  testing::write_split(root / "train", testing::make_dataset(train));
  testing::write_split(root / "valid",
                       testing::make_dataset({{"roboflow_100_9_png.rf.x.jpg", {{2, {1, 1, 2, 2}}}},
                                              {"300_4.png", {}},
                                              {"not_an_identity.png", {}}}));
  testing::write_split(root / "test", testing::make_dataset({{"no_hem_400_1.png", {}}}));
}

TEST(analyze, counts_originals_and_versions_by_name_not_by_a_fixed_multiplier) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  auto a = analyze_dataset(dir.path());
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_EQ(a->splits.size(), 3u);
  const auto& train = a->splits[0];
  EXPECT_EQ(train.name, "train");
  EXPECT_EQ(train.images, 7u);
  EXPECT_EQ(train.originals, 3u);
  EXPECT_EQ(train.augmented, 4u);
  EXPECT_EQ(train.annotations, 10u);
  EXPECT_EQ(train.images_with_hemorrhage, 4u);
  EXPECT_EQ(train.images_without_hemorrhage, 3u);
  EXPECT_EQ(train.originals_with_hemorrhage, 2u);
  EXPECT_EQ(train.originals_without_hemorrhage, 1u);
  EXPECT_EQ(train.patients, 2u);
  EXPECT_EQ(train.sources.at("v3"), 6u);
  EXPECT_EQ(train.sources.at("roboflow"), 1u);
}

TEST(analyze, counts_annotations_and_images_per_class_by_name) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  auto a = analyze_dataset(dir.path());
  ASSERT_TRUE(a);
  const auto& classes = a->splits[0].classes;
  ASSERT_EQ(classes.size(), 6u);
  EXPECT_EQ(classes[0].name, "EDH");
  EXPECT_EQ(classes[0].annotations, 3u);
  EXPECT_EQ(classes[0].images, 3u);
  EXPECT_EQ(classes[0].original_images, 1u);
  EXPECT_EQ(classes[4].name, "SAH");
  EXPECT_EQ(classes[4].annotations, 6u);
  EXPECT_EQ(classes[4].images, 3u);
  EXPECT_EQ(classes[5].images, 1u);
  // Overall, over originals of all splits.
  EXPECT_EQ(a->total_originals, 3u + 3u + 1u);
  EXPECT_EQ(a->originals_with_hemorrhage, 3u);
  EXPECT_EQ(a->classes[2].name, "IPH");
  EXPECT_EQ(a->classes[2].original_images, 1u);
}

TEST(analyze, finds_patients_shared_between_splits_through_every_prefix) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  auto a = analyze_dataset(dir.path());
  ASSERT_TRUE(a);
  ASSERT_EQ(a->overlaps.size(), 3u);
  EXPECT_EQ(a->overlaps[0].first, "train");
  EXPECT_EQ(a->overlaps[0].second, "valid");
  EXPECT_EQ(a->overlaps[0].patients, 1u);
  EXPECT_EQ(a->overlaps[0].examples, std::vector<std::string>{"100"});
  EXPECT_EQ(a->overlaps[1].patients, 0u);
  EXPECT_EQ(a->overlaps[2].patients, 0u);
  EXPECT_EQ(a->total_patients, 4u);
}

TEST(analyze, lists_names_that_break_the_identity_rule_as_findings) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  auto a = analyze_dataset(dir.path());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->splits[1].identity_errors, std::vector<std::string>{"not_an_identity.png"});
  EXPECT_EQ(a->splits[1].sources.at("no_hem"), 2u);
  const auto text = to_text(*a);
  EXPECT_NE(
      text.find("1 file names do not follow the slice-identity rule, e.g. 'not_an_identity.png'"),
      std::string::npos);
  EXPECT_NE(text.find("✗ Train/Valid share 1 patients: 100"), std::string::npos) << text;
  EXPECT_NE(text.find("✓ No Train/Test patient overlap"), std::string::npos);
}

TEST(analyze, text_report_follows_the_seeds_layout) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  auto a = analyze_dataset(dir.path());
  ASSERT_TRUE(a);
  const auto text = to_text(*a);
  for (const char* line :
       {"TRAIN SPLIT:", "  Total images: 7", "  Original (before augmentation): 3",
        "    Augmented (_aug suffix): 4", "    EDH: 3 annotations",
        "    Images with NO hemorrhages: 3 (42.9% of train)",
        "ORIGINAL IMAGES SUMMARY (Before Augmentation)", "Total original images: 7",
        "Train: 2 unique patients", "Total unique patients: 4"}) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "\n" << text;
  }
}

TEST(analyze, works_on_a_flat_folder_and_a_four_class_layout) {
  testing::temp_dir dir;
  testing::write_split(dir / "pool", testing::make_dataset({{"1_2.png", {}}, {"1_3.png", {}}}));
  auto flat = analyze_dataset(dir / "pool");
  ASSERT_TRUE(flat);
  ASSERT_EQ(flat->splits.size(), 1u);
  EXPECT_EQ(flat->splits[0].name, "pool");
  EXPECT_EQ(flat->splits[0].patients, 1u);

  testing::write_split(dir / "four" / "train",
                       testing::make_dataset({{"v3_1_2_aug0.png", {{3, {0, 0, 2, 2}}}}}, true));
  auto four = analyze_dataset(dir / "four");
  ASSERT_TRUE(four);
  ASSERT_EQ(four->splits[0].classes.size(), 4u);
  EXPECT_EQ(four->splits[0].classes[3].name, "SDH");
  EXPECT_EQ(four->splits[0].classes[3].annotations, 1u);
}

TEST(analyze, json_carries_the_same_numbers) {
  testing::temp_dir dir;
  write_fixture(dir.path());
  auto a = analyze_dataset(dir.path());
  ASSERT_TRUE(a);
  const auto json = to_json(*a);
  EXPECT_NE(json.find("\"originals\": 3"), std::string::npos);
  EXPECT_NE(json.find("\"augmented\": 4"), std::string::npos);
  EXPECT_NE(json.find("\"total_patients\": 4"), std::string::npos);
}

TEST(analyze, names_a_missing_or_broken_dataset) {
  testing::temp_dir dir;
  auto missing = analyze_dataset(dir / "absent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::error_code::not_found);
  testing::write_text(dir / "bad" / "_annotations.coco.json", "{\"images\": [");
  auto bad = analyze_dataset(dir / "bad");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, core::error_code::malformed_json);
}

}  // namespace
}  // namespace ctprep::report
