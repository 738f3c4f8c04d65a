#include <gtest/gtest.h>

#include <fmt/format.h>

#include "ctprep/core/files.hpp"
#include "ctprep/pipeline/download.hpp"
#include "ctprep/pipeline/shards.hpp"
#include "support/testing.hpp"

namespace ctprep::pipeline {
namespace {
namespace fs = std::filesystem;

feedback_table table_of(int n) {
  feedback_table t;
  for (int i = 1; i <= n; ++i) {
    t.rows.push_back({static_cast<std::size_t>(i + 1),
                      {"7", std::to_string(i)},
                      i % 3 == 0 ? feedback_class::fp : feedback_class::tn,
                      fmt::format("s3://b/7/{}.dcm", i)});
  }
  t.records = t.rows.size();
  return t;
}

std::vector<std::string> names(const download_plan& plan) {
  std::vector<std::string> out;
  for (const auto& item : plan.items) out.push_back(item.file_name);
  return out;
}

TEST(shard_plan, a_sharded_cut_stays_put_while_slices_finish) {
  const auto csv = table_of(10);  // FP 3, 6, 9; TN 1, 2, 4, 5, 7, 8, 10
  plan_options o;
  o.max_images = 5;  // 7_3 7_6 7_9 7_1 7_2
  const std::set<core::slice_id> finished{{"7", "3"}, {"7", "1"}};
  // Unsharded (the original's way): finished slices leave the cut, which moves on.
  EXPECT_EQ(names(make_plan(csv, {}, finished, o)),
            (std::vector<std::string>{"7_6.png", "7_9.png", "7_2.png", "7_4.png", "7_5.png"}));
  o.cut_includes_finished = true;
  const auto plan = make_plan(csv, {}, finished, o);
  EXPECT_EQ(names(plan), (std::vector<std::string>{"7_6.png", "7_9.png", "7_2.png"}));
  EXPECT_EQ(plan.fp.finished, 1u);
  EXPECT_EQ(plan.tn.finished, 1u);
  EXPECT_EQ(plan.cut_by_max, 5u);
}

class shard_merge : public ::testing::Test {
 protected:
  // Two shards of table_of(6) with full records; returns the whole plan.
  download_plan write_records(bool done) {
    const auto csv = table_of(6);
    plan_options o;
    o.cut_includes_finished = true;
    whole_ = make_plan(csv, {}, {}, o);
    for (std::uint64_t k = 0; k < 2; ++k) {
      auto s = make_shard_state(whole_, {k, 2}, shard_log_path(dir_.path(), {k, 2}), ".png");
      s.done = done;
      EXPECT_TRUE(write_shard_state(shard_state_path(dir_.path(), {k, 2}), s));
    }
    return whole_;
  }
  void finish_all_but(const std::string& id) {
    unsigned char seed = 1;
    for (const auto& item : whole_.items) {
      if (core::to_string(item.row.id) != id) {
        testing::write_test_image(dir_ / item.file_name, 16, 16, seed++);
      }
    }
  }
  testing::temp_dir dir_;
  download_plan whole_;
};

TEST_F(shard_merge, records_read_back_as_written) {
  write_records(true);
  auto s = read_shard_state(shard_state_path(dir_.path(), {1, 2}));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->shard.index, 1u);
  EXPECT_EQ(s->shard.count, 2u);
  EXPECT_TRUE(s->done);
  EXPECT_EQ(s->plan_total, 6u);
  EXPECT_EQ(s->log, shard_log_path(dir_.path(), {1, 2}));
  for (const auto& item : s->items) {
    EXPECT_EQ(core::to_string(whole_.items[item.position].row.id), item.id);
    EXPECT_EQ(shard_of(whole_.items[item.position].row.id, 2), 1u);
  }
  ASSERT_TRUE(core::write_file_atomic(dir_ / "bad.json", "{\"shard\": 1}"));
  auto bad = read_shard_state(dir_ / "bad.json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad.json' is not a ctprep shard record"), std::string::npos);
}

TEST_F(shard_merge, a_logged_failure_is_an_outcome_and_a_missing_file_is_not) {
  write_records(true);
  finish_all_but("7_2");
  const shard_spec where{shard_of({"7", "2"}, 2), 2};
  // No line for 7_2 yet: its shard is incomplete.
  auto check = check_shards(dir_.path(), 2, 1);
  ASSERT_TRUE(check);
  ASSERT_EQ(check->incomplete(), std::vector<std::uint64_t>{where.index});
  EXPECT_NE(check->shards[where.index].problem.find("1 of"), std::string::npos);
  EXPECT_NE(check->shards[where.index].problem.find("'7_2.png': no outcome yet"), std::string::npos)
      << check->shards[where.index].problem;
  // Logged ok first, failed last: the latest line wins.
  ASSERT_TRUE(core::write_file_atomic(
      shard_log_path(dir_.path(), where),
      "{\"id\":\"7_2\",\"outcome\":\"ok\",\"reason\":\"\"}\n"
      "{\"id\":\"7_2\",\"outcome\":\"failed\",\"reason\":\"404 NoSuchKey\"}\n"));
  check = check_shards(dir_.path(), 2, 1);
  ASSERT_TRUE(check);
  EXPECT_TRUE(check->incomplete().empty());
  EXPECT_EQ(check->ok, 5u);
  EXPECT_EQ(check->failed, 1u);
  ASSERT_EQ(check->items.size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(check->items[i].position, i);
  const auto summary = merge_summary_json(*check);
  EXPECT_NE(summary.find("\"id\": \"7_2\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"reason\": \"404 NoSuchKey\""), std::string::npos) << summary;
}

TEST_F(shard_merge, a_broken_png_or_an_unfinished_run_or_other_inputs_make_a_shard_incomplete) {
  write_records(false);
  finish_all_but("");
  auto check = check_shards(dir_.path(), 2, 1);
  ASSERT_TRUE(check);
  EXPECT_EQ(check->incomplete(), (std::vector<std::uint64_t>{0, 1}));
  EXPECT_NE(check->shards[0].problem.find("shard 0/2: its last run did not finish"),
            std::string::npos);

  write_records(true);
  ASSERT_TRUE(core::write_file_atomic(dir_ / "7_4.png", "\x89PNG\r\n\x1a\n half"));
  check = check_shards(dir_.path(), 2, 1);
  ASSERT_TRUE(check);
  const auto k = shard_of({"7", "4"}, 2);
  ASSERT_EQ(check->incomplete(), std::vector<std::uint64_t>{k});
  EXPECT_NE(check->shards[k].problem.find("'7_4.png' does not decode"), std::string::npos)
      << check->shards[k].problem;

  // Shard 1 planned from another CSV.
  finish_all_but("");
  auto other = make_shard_state(make_plan(table_of(5), {}, {}, {}), {1, 2}, {}, ".png");
  other.done = true;
  ASSERT_TRUE(write_shard_state(shard_state_path(dir_.path(), {1, 2}), other));
  fs::remove(shard_state_path(dir_.path(), {0, 2}));
  auto s0 = make_shard_state(whole_, {0, 2}, {}, ".png");
  s0.done = true;
  ASSERT_TRUE(write_shard_state(shard_state_path(dir_.path(), {0, 2}), s0));
  check = check_shards(dir_.path(), 3, 1);
  ASSERT_TRUE(check);
  EXPECT_EQ(check->incomplete(), (std::vector<std::uint64_t>{0, 1, 2}));  // records name /2
  check = check_shards(dir_.path(), 2, 1);
  ASSERT_TRUE(check);
  ASSERT_EQ(check->incomplete().size(), 1u);
  EXPECT_NE(check->shards[check->incomplete()[0]].problem.find("planned from other inputs"),
            std::string::npos);
}

}  // namespace
}  // namespace ctprep::pipeline

namespace ctprep::pipeline {
namespace {

TEST(shard_scan, a_shard_scans_and_cleans_only_its_own_files) {
  testing::temp_dir dir;
  testing::write_test_image(dir / "7_1.png", 8, 8, 1);
  testing::write_test_image(dir / "7_2.png", 8, 8, 2);
  testing::write_text(dir / ".7_1.png.tmp.11.ab", "half");
  testing::write_text(dir / ".7_2.png.tmp.12.cd", "being written by another shard");
  const auto mine = [](const core::slice_id& id) { return id.instance == "1"; };
  const auto scan = scan_finished(dir.path(), false, 1, mine);
  EXPECT_EQ(scan.ids, (std::set<core::slice_id>{{"7", "1"}}));
  EXPECT_EQ(scan.temp_files_removed, 1u);
  EXPECT_FALSE(fs::exists(dir / ".7_1.png.tmp.11.ab"));
  EXPECT_TRUE(fs::exists(dir / ".7_2.png.tmp.12.cd"));
}

}  // namespace
}  // namespace ctprep::pipeline
