// End-to-end: the built binary on datasets made in the test (annotate, analyze,
// export-csv, --version, help) and every bad input's exit code and message.
#include <gtest/gtest.h>

#include "ctprep/coco/coco.hpp"
#include "support/testing.hpp"

namespace ctprep {
namespace {

using testing::run_ctprep;
namespace fs = std::filesystem;

void write_dataset(const fs::path& root) {
  testing::write_split(root / "train",
                       testing::make_dataset({{"v3_thick_100_1_aug0.jpg", {{0, {1, 1, 5, 5}}}},
                                              {"v3_thick_100_1_aug1.jpg", {{0, {1, 1, 5, 5}}}},
                                              {"v3_thick_100_1_aug2.jpg", {{0, {2, 1, 5, 5}}}}}));
  testing::write_split(root / "valid",
                       testing::make_dataset({{"roboflow_200_1_png.rf.a.jpg", {}}}));
  testing::write_split(root / "test", testing::make_dataset({{"300_1.png", {{3, {1, 1, 2, 2}}}}}));
}

TEST(cli, prints_its_version_and_help) {
  auto v = run_ctprep({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_TRUE(v.out.starts_with("ctprep ")) << v.out;
  auto h = run_ctprep({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  for (const char* c : {"annotate", "analyze", "export-csv"})
    EXPECT_NE(h.out.find(c), std::string::npos);
  auto ha = run_ctprep({"help", "annotate"});
  EXPECT_EQ(ha.exit_code, 0);
  EXPECT_NE(ha.out.find("--image-dir"), std::string::npos);
  auto sub = run_ctprep({"export-csv", "--help"});
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_NE(sub.out.find("--model-version"), std::string::npos);
}

TEST(cli, usage_errors_exit_2) {
  EXPECT_EQ(run_ctprep({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(run_ctprep({"analyze"}).exit_code, 2);  // --dataset-dir is required
  EXPECT_EQ(run_ctprep({"analyze", "--dataset-dir", "x", "--bogus"}).exit_code, 2);
  EXPECT_EQ(run_ctprep({"help", "no-such-command"}).exit_code, 2);
}

TEST(cli_annotate, writes_the_pool_coco_file) {
  testing::temp_dir dir;
  testing::write_test_image(dir / "pool" / "520892552_14.png", 40, 30);
  testing::write_test_image(dir / "pool" / "525190930_29.png", 20, 10);
  auto r = run_ctprep({"annotate", "--image-dir", (dir / "pool").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Images: 2"), std::string::npos) << r.out;
  auto d = coco::read_file(dir / "pool" / "_annotations.coco.json");
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->images.size(), 2u);
  EXPECT_EQ(d->images[1].file_name, "525190930_29.png");
  EXPECT_EQ(d->images[1].width, 20);
  EXPECT_EQ(d->categories.size(), 6u);
  // Running again gives the same bytes (the output file itself is not listed).
  const auto first = testing::read_text(dir / "pool" / "_annotations.coco.json");
  ASSERT_EQ(
      run_ctprep({"annotate", "--image-dir", (dir / "pool").string(), "-q", "-j", "1"}).exit_code,
      0);
  EXPECT_EQ(testing::read_text(dir / "pool" / "_annotations.coco.json"), first);
}

TEST(cli_annotate, bad_inputs_have_their_exit_codes) {
  testing::temp_dir dir;
  auto missing = run_ctprep({"annotate", "--image-dir", (dir / "absent").string()});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("absent"), std::string::npos) << missing.err;

  fs::create_directories(dir / "empty");
  auto empty = run_ctprep({"annotate", "--image-dir", (dir / "empty").string(), "-q"});
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_NE(empty.err.find("holds no images"), std::string::npos) << empty.err;
  EXPECT_EQ(coco::read_file(dir / "empty" / "_annotations.coco.json")->images.size(), 0u);

  testing::write_test_image(dir / "pool" / "1_2.png", 8, 8);
  testing::write_text(dir / "pool" / "3_4.png", "not really a png");
  testing::write_text(dir / "pool" / "readme.txt", "x");
  auto partial = run_ctprep({"annotate", "--image-dir", (dir / "pool").string(), "-q"});
  EXPECT_EQ(partial.exit_code, 8);
  EXPECT_NE(partial.err.find("skipped '3_4.png'"), std::string::npos) << partial.err;
  EXPECT_NE(partial.err.find("skipped 'readme.txt': not an image"), std::string::npos);

  testing::write_text(dir / "file", "x");
  auto unwritable = run_ctprep({"annotate", "--image-dir", (dir / "pool").string(), "-q",
                                "--output-json", (dir / "file" / "out.json").string()});
  EXPECT_EQ(unwritable.exit_code, 5) << unwritable.err;
  EXPECT_NE(unwritable.err.find("not_writable"), std::string::npos);
}

TEST(cli_analyze, prints_the_report_and_json) {
  testing::temp_dir dir;
  write_dataset(dir.path());
  auto text = run_ctprep({"analyze", "--dataset-dir", dir.path().string()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("  Original (before augmentation): 1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("    Augmented (_aug suffix): 2"), std::string::npos);
  EXPECT_NE(text.out.find("Total unique patients: 3"), std::string::npos);
  auto json = run_ctprep({"analyze", "--dataset-dir", dir.path().string(), "--json"});
  ASSERT_EQ(json.exit_code, 0);
  EXPECT_TRUE(json.out.starts_with("{")) << json.out;
  EXPECT_NE(json.out.find("\"total_patients\": 3"), std::string::npos);
}

TEST(cli_analyze, bad_inputs_name_the_file_and_place) {
  testing::temp_dir dir;
  auto missing = run_ctprep({"analyze", "--dataset-dir", (dir / "absent").string()});
  EXPECT_EQ(missing.exit_code, 3);
  write_dataset(dir.path());
  testing::write_text(dir / "valid" / "_annotations.coco.json", "{\"images\": [}\n");
  auto malformed = run_ctprep({"analyze", "--dataset-dir", dir.path().string()});
  EXPECT_EQ(malformed.exit_code, 4);
  EXPECT_NE(malformed.err.find("valid/_annotations.coco.json' at byte 12 (line:column 1:13)"),
            std::string::npos)
      << malformed.err;
  testing::write_text(
      dir / "valid" / "_annotations.coco.json",
      R"({"images":[{"id":1,"file_name":"1_2.png","width":8,"height":8}],)"
      R"("categories":[],"annotations":[{"id":1,"image_id":1,"category_id":0,"bbox":[0,0,1,1]}]})");
  auto inconsistent = run_ctprep({"analyze", "--dataset-dir", dir.path().string()});
  EXPECT_EQ(inconsistent.exit_code, 4);
  EXPECT_NE(inconsistent.err.find("annotations[0].category_id 0 names no category"),
            std::string::npos)
      << inconsistent.err;
}

TEST(cli_export_csv, writes_one_row_per_image) {
  testing::temp_dir dir;
  write_dataset(dir / "ds");
  auto r = run_ctprep({"export-csv", "--dataset-dir", (dir / "ds").string(), "--output",
                       (dir / "meta" / "out.csv").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto csv = testing::read_text(dir / "meta" / "out.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6);
  EXPECT_NE(csv.find("100,1,v3_thick_100_1_aug2.jpg,train,v3,0,0,0,1,0,0,0,1,v4\r\n"),
            std::string::npos)
      << csv;
}

TEST(cli_export_csv, bad_inputs_leave_no_partial_file) {
  testing::temp_dir dir;
  write_dataset(dir / "ds");
  testing::write_text(dir / "file", "x");
  auto unwritable = run_ctprep({"export-csv", "--dataset-dir", (dir / "ds").string(), "--output",
                                (dir / "file" / "out.csv").string()});
  EXPECT_EQ(unwritable.exit_code, 5);
  auto missing = run_ctprep({"export-csv", "--dataset-dir", (dir / "absent").string(), "--output",
                             (dir / "o.csv").string()});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_FALSE(fs::exists(dir / "o.csv"));
  testing::write_split(dir / "bad" / "train", testing::make_dataset({{"scan_final.png", {}}}));
  auto identity = run_ctprep({"export-csv", "--dataset-dir", (dir / "bad").string(), "--output",
                              (dir / "o.csv").string()});
  EXPECT_EQ(identity.exit_code, 4);
  EXPECT_NE(identity.err.find("bad_identity: 'scan_final.png'"), std::string::npos) << identity.err;
  EXPECT_FALSE(fs::exists(dir / "o.csv"));
}

}  // namespace
}  // namespace ctprep
