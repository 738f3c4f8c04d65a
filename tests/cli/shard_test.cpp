// `convert --shard K/N`: the shards of a folder partition its inputs.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "ctprep/pipeline/download.hpp"
#include "support/testing.hpp"

namespace ctprep {
namespace {
namespace fs = std::filesystem;
using testing::run_ctprep;

std::map<std::string, std::string> pngs(const fs::path& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() == ".png") {
      out[fs::relative(e.path(), dir).string()] = testing::read_text(e.path());
    }
  }
  return out;
}

TEST(cli_convert_shard, three_shards_convert_each_input_once_and_together_equal_one_run) {
  testing::temp_dir dir;
  auto synth = run_ctprep({"synth", "dicom", "--out", (dir / "dicom").string(), "--series", "2",
                           "--slices", "6", "--wrong-thickness", "0", "--seed", "5"});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  auto whole = run_ctprep({"convert", (dir / "dicom").string(), "-o", (dir / "whole").string(),
                           "--name", "{patient_id}_{instance}", "-q"});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const auto expected = pngs(dir / "whole");
  ASSERT_EQ(expected.size(), 12u);

  std::map<std::string, std::string> together;
  std::size_t sum = 0;
  for (int k = 0; k < 3; ++k) {
    const auto out = dir / ("part" + std::to_string(k));
    auto r = run_ctprep({"convert", (dir / "dicom").string(), "-o", out.string(), "--name",
                         "{patient_id}_{instance}", "--shard", std::to_string(k) + "/3", "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto part = pngs(out);
    EXPECT_NE(r.out.find("Shard " + std::to_string(k) + "/3: " + std::to_string(part.size()) +
                         " of 12 inputs"),
              std::string::npos)
        << r.out;
    sum += part.size();
    together.insert(part.begin(), part.end());
  }
  EXPECT_EQ(sum, 12u);  // disjoint
  EXPECT_TRUE(together == expected);
}

TEST(cli_convert_shard, a_dicom_named_by_its_slice_goes_to_downloads_shard) {
  testing::temp_dir dir;
  auto synth = run_ctprep({"synth", "dicom", "--out", (dir / "dicom").string(), "--series", "1",
                           "--slices", "4", "--wrong-thickness", "0", "--seed", "5"});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  // Rename the files as download --keep-dicom names them: "<pid>_<inst>.dcm".
  fs::create_directories(dir / "kept");
  std::map<std::string, std::uint64_t> shard_of;
  for (const auto& e : fs::recursive_directory_iterator(dir / "dicom")) {
    if (e.path().extension() != ".dcm") continue;
    const auto name = e.path().parent_path().filename().string() + "_" + e.path().stem().string();
    fs::copy_file(e.path(), dir / "kept" / (name + ".dcm"));
    const auto at = name.find('_');
    shard_of[name + ".png"] = pipeline::shard_of({name.substr(0, at), name.substr(at + 1)}, 2);
  }
  ASSERT_EQ(shard_of.size(), 4u);
  for (std::uint64_t k = 0; k < 2; ++k) {
    const auto out = dir / ("part" + std::to_string(k));
    auto r = run_ctprep({"convert", (dir / "kept").string(), "-o", out.string(), "--shard",
                         std::to_string(k) + "/2", "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& [name, shard] : shard_of) {
      EXPECT_EQ(fs::exists(out / name), shard == k) << name << " shard " << k;
    }
  }
}

TEST(cli_convert_shard, rejects_a_wrong_shard_form_with_exit_2) {
  testing::temp_dir dir;
  testing::write_text(dir / "in" / "a.dcm", "x");
  for (const char* bad : {"3/3", "1", "a/3", "1/0", "1/2/3"}) {
    auto r = run_ctprep(
        {"convert", (dir / "in").string(), "-o", (dir / "out").string(), "--shard", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << r.err;
    EXPECT_NE(r.err.find("expected K/N with 0 <= K < N"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace ctprep
