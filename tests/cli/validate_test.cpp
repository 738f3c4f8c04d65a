// End-to-end: `ctprep validate` from the built binary — exit codes 0/7/3/4/2, the
// human report, --json, --skip-image-validation and release roots.
#include <gtest/gtest.h>

#include "support/release_fixture.hpp"
#include "support/testing.hpp"

namespace ctprep {
namespace {

using testing::run_ctprep;
namespace fs = std::filesystem;

TEST(cli_validate, passes_a_clean_release_root_with_exit_0) {
  testing::temp_dir dir;
  testing::write_release(dir.path());
  auto r = run_ctprep({"validate", "--dataset-dir", dir.path().string(), "--quiet", "--jobs", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("4 datasets under"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("all passed (0 warnings)"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
  auto one = run_ctprep({"validate", "--dataset-dir", (dir / "6class_coco").string(), "-q"});
  EXPECT_EQ(one.exit_code, 0) << one.out;
  EXPECT_NE(one.out.find("[1/8] Validating COCO format..."), std::string::npos);
  EXPECT_NE(one.out.find("[8/8] Checking 4-class dataset..."), std::string::npos);
  EXPECT_NE(one.out.find("✓ VALIDATION PASSED - Dataset ready for training!"), std::string::npos);
}

TEST(cli_validate, exits_7_with_findings_as_json_when_a_rule_fails) {
  testing::temp_dir dir;
  testing::write_release(dir.path());
  const auto victim = dir / "6class_coco_original" / "valid" / "101002_2.png";
  fs::resize_file(victim, fs::file_size(victim) - 20);
  auto r = run_ctprep(
      {"validate", "--dataset-dir", (dir / "6class_coco_original").string(), "--json", "-q"});
  EXPECT_EQ(r.exit_code, 7) << r.out << r.err;
  EXPECT_NE(r.out.find("\"passed\": false"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"rule\": \"images\""), std::string::npos);
  EXPECT_NE(r.out.find("\"split\": \"valid\""), std::string::npos);
  EXPECT_NE(r.out.find("\"file\": \"101002_2.png\""), std::string::npos);

  // The human report and, from the same pass, the JSON in a file: the very bytes --json prints.
  auto text = run_ctprep({"validate", "--dataset-dir", (dir / "6class_coco_original").string(),
                          "-q", "--json-out", (dir / "findings.json").string()});
  EXPECT_EQ(text.exit_code, 7);
  EXPECT_NE(text.out.find("✗ VALIDATION FAILED: 1 error"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("[images] 1 error"), std::string::npos);
  EXPECT_EQ(testing::read_text(dir / "findings.json"), r.out);

  // The header is intact, so a header-only pass does not see the truncation.
  auto skip = run_ctprep({"validate", "--dataset-dir", (dir / "6class_coco_original").string(),
                          "--skip-image-validation", "-q"});
  EXPECT_EQ(skip.exit_code, 0) << skip.out;
}

TEST(cli_validate, checks_the_class_set_asked_for) {
  testing::temp_dir dir;
  testing::write_release(dir.path());
  auto r = run_ctprep({"validate", "--dataset-dir", (dir / "6class_coco_original").string(),
                       "--expected-classes", "4", "-q", "--json"});
  EXPECT_EQ(r.exit_code, 7) << r.out;
  EXPECT_NE(r.out.find("type is 6class but --expected-classes is 4"), std::string::npos) << r.out;
  auto bad =
      run_ctprep({"validate", "--dataset-dir", dir.path().string(), "--expected-classes", "5"});
  EXPECT_EQ(bad.exit_code, 2);
}

TEST(cli_validate, exits_3_for_a_missing_dataset_and_4_for_unreadable_json) {
  testing::temp_dir dir;
  auto missing = run_ctprep({"validate", "--dataset-dir", (dir / "nope").string()});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("not_found"), std::string::npos) << missing.err;
  testing::write_release(dir.path());
  testing::write_text(dir / "6class_coco" / "test" / "_annotations.coco.json", "{\"images\": [1,");
  auto broken = run_ctprep({"validate", "--dataset-dir", (dir / "6class_coco").string()});
  EXPECT_EQ(broken.exit_code, 4);
  EXPECT_NE(broken.err.find("malformed_json"), std::string::npos) << broken.err;
}

}  // namespace
}  // namespace ctprep

namespace ctprep {
namespace {

// The release gate on what the pipeline itself builds: synth world -> prepare ->
// validate must give zero findings (errors and warnings) on all four datasets.
TEST(cli_validate, passes_a_release_that_prepare_just_built_with_zero_findings) {
  testing::temp_dir dir;
  const auto world = dir / "world";
  auto synth =
      run_ctprep({"synth", "world", "--out", world.string(), "--scale", "demo", "--quiet"});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  auto prepare = run_ctprep({"prepare", "--data-root", world.string(), "--quiet"});
  ASSERT_EQ(prepare.exit_code, 0) << prepare.out << prepare.err;
  const auto v4 = world / "training_datasets" / "v4";
  auto r = run_ctprep({"validate", "--dataset-dir", v4.string(), "--json", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(r.out.starts_with("{\n  \"passed\": true,\n  \"errors\": 0,\n  \"warnings\": 0,"))
      << r.out.substr(0, 4000);
  for (const char* folder :
       {"6class_coco_original", "6class_coco", "4class_coco_original", "4class_coco"}) {
    EXPECT_NE(r.out.find((v4 / folder).string()), std::string::npos) << folder;
  }
  // The comparisons that need the sibling datasets really ran.
  EXPECT_NE(r.out.find("originals byte-identical"), std::string::npos);
  EXPECT_NE(r.out.find("Images follow the 6-class source"), std::string::npos);
}

}  // namespace
}  // namespace ctprep
