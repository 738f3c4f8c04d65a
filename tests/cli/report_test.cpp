// End-to-end: `ctprep report` writes the page and maps every bad input to its exit code.
#include <gtest/gtest.h>

#include "support/testing.hpp"

namespace ctprep {
namespace {

namespace fs = std::filesystem;
using testing::run_ctprep;

void write_dataset(const fs::path& root) {
  testing::write_split(root / "train",
                       testing::make_dataset({{"v3_100_1_aug0.png", {{2, {1, 1, 9, 9}}}},
                                              {"v3_100_1_aug1.png", {{2, {2, 1, 9, 9}}}},
                                              {"200_3.png", {}}}));
  testing::write_split(root / "valid",
                       testing::make_dataset({{"v3_300_1.png", {{4, {3, 3, 5, 5}}}}}));
}

TEST(cli_report, writes_a_self_contained_page_and_says_where) {
  testing::temp_dir dir;
  write_dataset(dir / "ds");
  const auto out = dir / "out" / "report.html";
  auto r = run_ctprep({"report", "--dataset-dir", (dir / "ds").string(), "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Report written to: " + out.string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Sections: summary, splits, classes, patients, sheets"), std::string::npos);
  const auto page = testing::read_text(out);
  EXPECT_TRUE(page.starts_with("<!DOCTYPE html>"));
  EXPECT_EQ(page.find("<script"), std::string::npos);

  // Same inputs, same bytes; --quiet prints the path alone.
  const auto again = dir / "again.html";
  auto q = run_ctprep({"report", "--dataset-dir", (dir / "ds").string(), "--out", again.string(),
                       "--quiet", "--jobs", "1"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, again.string() + "\n");
  EXPECT_EQ(testing::read_text(again), page);
}

TEST(cli_report, maps_bad_inputs_to_exit_codes) {
  testing::temp_dir dir;
  write_dataset(dir / "ds");
  const auto ds = (dir / "ds").string();
  const auto out = (dir / "r.html").string();
  EXPECT_EQ(run_ctprep({"report", "--dataset-dir", ds}).exit_code, 2);
  EXPECT_EQ(
      run_ctprep({"report", "--dataset-dir", ds, "--out", out, "--thumbnail-size", "3"}).exit_code,
      2);
  auto missing = run_ctprep({"report", "--dataset-dir", (dir / "nope").string(), "--out", out});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("ctprep report: not_found"), std::string::npos) << missing.err;
  EXPECT_EQ(run_ctprep({"report", "--dataset-dir", ds, "--out", out, "--evaluation",
                        (dir / "no-eval").string()})
                .exit_code,
            3);
  testing::write_text(dir / "v.json", "{\"rules\": [1,");
  EXPECT_EQ(run_ctprep({"report", "--dataset-dir", ds, "--out", out, "--validation-json",
                        (dir / "v.json").string()})
                .exit_code,
            4);
  testing::write_text(dir / "f.csv", "patient_id,instance_no\n1,2\n");
  auto csv = run_ctprep(
      {"report", "--dataset-dir", ds, "--out", out, "--feedback-csv", (dir / "f.csv").string()});
  EXPECT_EQ(csv.exit_code, 4);
  EXPECT_NE(csv.err.find("classification_result"), std::string::npos) << csv.err;
  testing::write_text(dir / "file", "x");
  EXPECT_EQ(run_ctprep({"report", "--dataset-dir", ds, "--out", (dir / "file" / "r.html").string()})
                .exit_code,
            5);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace ctprep
