// End-to-end: `ctprep synth dicom` then `ctprep convert` from the built binary.
#include <filesystem>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ctprep/imaging/header.hpp"
#include "support/testing.hpp"

namespace {
namespace fs = std::filesystem;
using ctprep::testing::read_text;
using ctprep::testing::run_ctprep;
using ctprep::testing::temp_dir;
using ctprep::testing::write_text;

std::size_t count_png(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    n += e.path().extension() == ".png" ? 1 : 0;
  return n;
}

TEST(cli_convert, converts_a_synthetic_series_and_resumes) {
  temp_dir dir;
  const auto src = dir / "dicom";
  const auto out = dir / "png";
  auto synth = run_ctprep(
      {"synth", "dicom", "--out", src.string(), "--series", "2", "--slices", "5", "--seed", "9"});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  EXPECT_NE(synth.out.find("Wrote 10 slices"), std::string::npos) << synth.out;
  EXPECT_TRUE(fs::exists(src / "synth_annotations.coco.json"));

  auto r = run_ctprep({"convert", src.string(), "--output-dir", out.string(), "--name",
                       "{patient_id}_{instance}", "--log", (dir / "log.jsonl").string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Converted: 9"), std::string::npos) << r.out;  // 10% wrong thickness
  EXPECT_NE(r.out.find("Skipped (slice thickness): 1"), std::string::npos) << r.out;
  EXPECT_EQ(count_png(out), 9u);
  const auto log = read_text(dir / "log.jsonl");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 10);
  EXPECT_NE(log.find("\"outcome\":\"skipped_thickness\""), std::string::npos);

  for (const auto& e : fs::directory_iterator(out)) {
    auto h = ctprep::imaging::read_image_header(e.path());
    ASSERT_TRUE(h);
    EXPECT_EQ(h->width, 512);
    EXPECT_EQ(h->channels, 1);
  }
  // A truncated PNG left by another tool is redone; complete ones are kept.
  const auto victim = fs::directory_iterator(out)->path();
  const auto whole = read_text(victim);
  write_text(victim, whole.substr(0, whole.size() / 2));
  r = run_ctprep({"convert", src.string(), "--output-dir", out.string(), "--name",
                  "{patient_id}_{instance}", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Converted: 1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Already present: 8"), std::string::npos) << r.out;
  EXPECT_EQ(read_text(victim), whole);  // deterministic bytes
}

TEST(cli_convert, inputs_named_alike_give_one_png_and_a_named_failure_each) {
  temp_dir dir;
  const auto src = dir / "dicom";
  ASSERT_EQ(run_ctprep({"synth", "dicom", "--out", src.string(), "--series", "2", "--slices", "2",
                        "--wrong-thickness", "0", "-q"})
                .exit_code,
            0);
  // Both series have instances 1 and 2: the second of each pair (in path order) fails.
  const auto r = run_ctprep({"convert", src.string(), "-o", (dir / "png").string(), "--name",
                             "{instance}", "--log", (dir / "log.jsonl").string(), "-q"});
  EXPECT_EQ(r.exit_code, 8) << r.err;
  EXPECT_NE(r.out.find("Converted: 2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Failed: 2\n"), std::string::npos) << r.out;
  EXPECT_EQ(count_png(dir / "png"), 2u);
  EXPECT_NE(r.err.find("not_writable: '"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("output name '" + (dir / "png" / "1.png").string() + "' is already used by"),
            std::string::npos)
      << r.err;
  const auto log = read_text(dir / "log.jsonl");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 4);
  EXPECT_NE(log.find("\"outcome\":\"failed\",\"reason\":\"not_writable: "), std::string::npos)
      << log;
}

TEST(cli_convert, exit_codes_for_bad_inputs) {
  temp_dir dir;
  // Missing input: 3.
  auto r = run_ctprep({"convert", (dir / "nope").string(), "-o", (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  // Empty folder: 3 with a message.
  fs::create_directories(dir / "empty");
  r = run_ctprep({"convert", (dir / "empty").string(), "-o", (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no input files"), std::string::npos) << r.err;
  // Only broken files: 4; some broken: 8.
  write_text(dir / "bad" / "a.dcm", "not a dicom file");
  r = run_ctprep({"convert", (dir / "bad").string(), "-o", (dir / "out").string(), "-q"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("a.dcm"), std::string::npos) << r.err;
  auto synth = run_ctprep({"synth", "dicom", "--out", (dir / "bad").string(), "--slices", "2",
                           "--wrong-thickness", "0"});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  r = run_ctprep({"convert", (dir / "bad").string(), "-o", (dir / "out").string(), "-q"});
  EXPECT_EQ(r.exit_code, 8) << r.out << r.err;
  EXPECT_NE(r.out.find("Converted: 2"), std::string::npos) << r.out;
  // Bad window, unsafe template: usage errors (2).
  r = run_ctprep(
      {"convert", (dir / "bad").string(), "-o", (dir / "out").string(), "--window", "40/0"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_ctprep(
      {"convert", (dir / "bad").string(), "-o", (dir / "out").string(), "--name", "../{stem}"});
  EXPECT_EQ(r.exit_code, 2);
  // Unwritable output folder: 5 (root ignores permissions, so only check as a user).
  if (::geteuid() != 0) {
    fs::create_directories(dir / "ro");
    ::chmod((dir / "ro").c_str(), 0500);
    r = run_ctprep({"convert", (dir / "bad").string(), "-o", (dir / "ro" / "x").string()});
    EXPECT_EQ(r.exit_code, 5) << r.err;
    ::chmod((dir / "ro").c_str(), 0700);
  }
  write_text(dir / "file_not_dir", "x");
  r = run_ctprep({"convert", (dir / "bad").string(), "-o", (dir / "file_not_dir" / "x").string()});
  EXPECT_EQ(r.exit_code, 5) << r.err;
}

}  // namespace
