#include <gtest/gtest.h>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/pipeline/download.hpp"
#include "support/testing.hpp"

namespace ctprep::pipeline {
namespace {

feedback_table table_of(const std::vector<std::tuple<int, int, feedback_class>>& rows) {
  feedback_table t;
  std::size_t line = 2;
  for (const auto& [p, i, c] : rows) {
    t.rows.push_back(
        {line++, {std::to_string(p), std::to_string(i)}, c, fmt::format("s3://b/{}_{}.dcm", p, i)});
  }
  t.records = t.rows.size();
  return t;
}

std::vector<std::string> names(const download_plan& plan) {
  std::vector<std::string> out;
  for (const auto& item : plan.items) out.push_back(item.file_name);
  return out;
}

constexpr auto fp = feedback_class::fp;
constexpr auto tn = feedback_class::tn;

TEST(download_plan, puts_every_missing_fp_first_then_tn_in_csv_order) {
  const auto csv =
      table_of({{1, 1, tn}, {1, 2, fp}, {2, 1, tn}, {2, 2, fp}, {3, 1, tn}, {3, 2, tn}});
  const std::set<core::slice_id> present{{"2", "1"}};
  const std::set<core::slice_id> finished{{"2", "2"}};
  auto plan = make_plan(csv, present, finished, {});
  EXPECT_EQ(names(plan), (std::vector<std::string>{"1_2.png", "1_1.png", "3_1.png", "3_2.png"}));
  EXPECT_EQ(plan.fp.in_csv, 2u);
  EXPECT_EQ(plan.fp.finished, 1u);
  EXPECT_EQ(plan.fp.missing, 1u);
  EXPECT_EQ(plan.tn.present, 1u);
  EXPECT_EQ(plan.tn.missing, 3u);
  EXPECT_EQ(plan.tn.planned, 3u);
  EXPECT_EQ(plan.cut_by_max, 0u);
}

TEST(download_plan, cuts_to_max_images_keeping_fp_and_honours_fp_only) {
  const auto csv = table_of({{1, 1, tn}, {1, 2, tn}, {1, 3, fp}, {1, 4, tn}, {1, 5, fp}});
  plan_options o;
  o.max_images = 3;
  auto plan = make_plan(csv, {}, {}, o, ".dcm");
  EXPECT_EQ(names(plan), (std::vector<std::string>{"1_3.dcm", "1_5.dcm", "1_1.dcm"}));
  EXPECT_EQ(plan.cut_by_max, 2u);
  o.max_images = 1;
  EXPECT_EQ(names(make_plan(csv, {}, {}, o)), (std::vector<std::string>{"1_3.png"}));
  o.max_images.reset();
  o.fp_only = true;
  plan = make_plan(csv, {}, {}, o);
  EXPECT_EQ(names(plan), (std::vector<std::string>{"1_3.png", "1_5.png"}));
  EXPECT_EQ(plan.cut_by_max, 3u);
  o.max_images = 0;
  EXPECT_TRUE(make_plan(csv, {}, {}, o).items.empty());
}

TEST(download_plan, shards_partition_the_cut_plan_deterministically) {
  std::vector<std::tuple<int, int, feedback_class>> rows;
  for (int p = 0; p < 50; ++p) {
    for (int i = 0; i < 20; ++i) rows.emplace_back(500000000 + p, i, p % 7 == 0 ? fp : tn);
  }
  const auto csv = table_of(rows);
  plan_options o;
  o.max_images = 700;
  const auto whole = make_plan(csv, {}, {}, o);
  ASSERT_EQ(whole.items.size(), 700u);
  std::multiset<std::string> united;
  for (std::uint64_t k = 0; k < 4; ++k) {
    o.shard = {k, 4};
    const auto part = make_plan(csv, {}, {}, o);
    EXPECT_EQ(part.items.size() + part.other_shards, 700u);
    // Roughly even: each shard within 25% of a quarter.
    EXPECT_GT(part.items.size(), 130u) << k;
    EXPECT_LT(part.items.size(), 220u) << k;
    // Order within a shard is the plan's order (FP first).
    std::size_t last = 0;
    for (const auto& item : part.items) {
      const auto pos = static_cast<std::size_t>(
          std::find_if(whole.items.begin(), whole.items.end(),
                       [&](const auto& w) { return w.file_name == item.file_name; }) -
          whole.items.begin());
      EXPECT_GE(pos, last);
      last = pos;
      united.insert(item.file_name);
    }
  }
  EXPECT_EQ(united.size(), 700u);
  std::multiset<std::string> expected;
  for (const auto& item : whole.items) expected.insert(item.file_name);
  EXPECT_EQ(united, expected);
  // Pinned: the partition must not change between versions (Slurm arrays rely on it).
  EXPECT_EQ(shard_of({"520892552", "14"}, 1000003), 171161u);
  EXPECT_EQ(shard_of({"591645860", "2"}, 1000003), 176447u);
  EXPECT_EQ(shard_of({"1", "1"}, 1), 0u);
}

TEST(download_plan, parses_shard_specs) {
  auto s = parse_shard("2/5");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 2u);
  EXPECT_EQ(s->count, 5u);
  for (const char* bad : {"5/5", "1/0", "a/2", "1", "1/", "/2", "-1/2", "1/2/3"}) {
    auto b = parse_shard(bad);
    ASSERT_FALSE(b) << bad;
    EXPECT_EQ(b.error().code, core::error_code::bad_argument);
  }
}

TEST(scan_existing, reads_split_jsons_flat_jsons_and_bare_images) {
  testing::temp_dir dir;
  testing::write_split(dir / "splits" / "train",
                       testing::make_dataset({{"v3_thick_520892552_14.jpg", {}}}));
  testing::write_split(dir / "splits" / "valid",
                       testing::make_dataset({{"roboflow_525190930_29_png.rf.ab12.jpg", {}}}));
  testing::write_split(dir / "splits" / "test", testing::make_dataset({{"bad-name.jpg", {}}}));
  testing::write_split(dir / "flat", testing::make_dataset({{"591645860_2.png", {}}}));
  testing::write_test_image(dir / "bare" / "no_hem_7_8.png", 8, 8);
  testing::write_text(dir / "bare" / "notes.txt", "x");
  existing_scan scan;
  ASSERT_TRUE(scan_existing(dir / "splits", scan));
  ASSERT_TRUE(scan_existing(dir / "flat", scan));
  ASSERT_TRUE(scan_existing(dir / "bare", scan));
  EXPECT_EQ(scan.ids,
            (std::set<core::slice_id>{
                {"520892552", "14"}, {"525190930", "29"}, {"591645860", "2"}, {"7", "8"}}));
  EXPECT_EQ(scan.images, 5u);
  ASSERT_EQ(scan.notes.size(), 4u);
  EXPECT_NE(scan.notes[1].find("1 names the identity rule cannot read (first: 'bad-name.jpg')"),
            std::string::npos);
  auto missing = scan_existing(dir / "none", scan);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::error_code::not_found);
}

TEST(scan_finished, keeps_decodable_pngs_and_redoes_broken_ones) {
  testing::temp_dir dir;
  testing::write_test_image(dir / "1_1.png", 16, 16);
  testing::write_test_image(dir / "1_2.png", 16, 16);
  auto bytes = testing::read_text(dir / "1_2.png");
  testing::write_text(dir / "1_2.png", bytes.substr(0, bytes.size() / 2));  // half-written
  testing::write_text(dir / "1_3.png", "");
  testing::write_text(dir / ".1_4.png.tmp.123.456", "partial");
  testing::write_test_image(dir / "v3_1_5.png", 16, 16);  // not a name download writes
  testing::write_text(dir / "1_6.dcm", "DICM");
  auto scan = scan_finished(dir.path(), false, 2);
  EXPECT_EQ(scan.ids, (std::set<core::slice_id>{{"1", "1"}}));
  EXPECT_EQ(scan.broken, (std::vector<std::string>{"1_2.png", "1_3.png"}));
  EXPECT_EQ(scan.temp_files_removed, 1u);
  EXPECT_FALSE(std::filesystem::exists(dir / ".1_4.png.tmp.123.456"));
  auto dicoms = scan_finished(dir.path(), true, 2);
  EXPECT_EQ(dicoms.ids, (std::set<core::slice_id>{{"1", "6"}}));
  EXPECT_TRUE(scan_finished(dir / "absent", false, 1).ids.empty());
}

}  // namespace
}  // namespace ctprep::pipeline
