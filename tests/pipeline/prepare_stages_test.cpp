#include <gtest/gtest.h>

#include <map>
#include <set>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/pipeline/prepare.hpp"
#include "support/testing.hpp"

namespace ctprep::pipeline {
namespace {
namespace fs = std::filesystem;

slice_item make_item(const std::string& patient, int instance,
                     std::vector<imaging::labeled_box> boxes = {}, std::string source = "v3") {
  slice_item it;
  it.file_name = fmt::format("{}_{}_{}.jpg", source, patient, instance);
  it.id = {patient, std::to_string(instance)};
  it.width = it.height = 512;
  it.boxes = std::move(boxes);
  it.source = std::move(source);
  return it;
}

imaging::labeled_box box(std::int64_t c) {
  return {c, {10, 10, 50, 50}};
}

TEST(prepare_clip, clips_boxes_recomputes_area_and_drops_slivers) {
  std::vector<slice_item> items = {
      make_item("1", 1, {{2, {500, 10, 30, 20}}, {3, {-5, -5, 20, 10}}}),
      make_item("1", 2, {{2, {511.5, 0, 40, 40}}}),
      make_item("1", 3, {{2, {100, 100, 50, 50}}, {4, {0, 600, 10, 10}}})};
  auto r = clip_boxes(items);
  EXPECT_EQ(r.clipped, 4u);
  EXPECT_EQ(r.dropped_boxes, 2u);
  ASSERT_EQ(r.emptied_images, (std::vector<std::string>{"v3_1_2.jpg"}));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].boxes[0].bbox, (core::box{500, 10, 12, 20}));
  EXPECT_EQ(items[0].boxes[1].bbox, (core::box{0, 0, 15, 5}));
  ASSERT_EQ(items[1].boxes.size(), 1u);
  EXPECT_EQ(items[1].boxes[0].bbox, (core::box{100, 100, 50, 50}));
}

// 300 patients of 1..8 slices; classes 0..5 with EDH in exactly 3 patients.
std::vector<slice_item> population(std::uint64_t seed) {
  core::rng random(seed);
  std::vector<slice_item> items;
  for (int p = 0; p < 300; ++p) {
    const auto pid = std::to_string(100000 + p * 7);
    const auto n = static_cast<int>(random.between(1, 8));
    for (int k = 1; k <= n; ++k) {
      std::vector<imaging::labeled_box> boxes;
      if (p < 3 && k == 1)
        boxes.push_back(box(0));
      else if (random.chance(0.6))
        boxes.push_back(box(static_cast<std::int64_t>(1 + random.below(5))));
      items.push_back(make_item(pid, k, boxes));
    }
  }
  return items;
}

TEST(prepare_split, never_splits_a_patient_and_covers_every_class_and_hits_targets) {
  const auto items = population(1);
  auto r = split_patients(items, 0.15, 0.05, 42);
  std::map<std::string, std::size_t> where;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto [it, inserted] = where.emplace(items[i].id.patient, r.assignment[i]);
    EXPECT_EQ(it->second, r.assignment[i]) << items[i].id.patient;
  }
  for (std::size_t s = 0; s < split_count; ++s) {
    for (int c = 0; c < 6; ++c)
      EXPECT_GT(r.class_images[s][c], 0u) << split_names[s] << " class " << c;
    // Within 1% of the total or one patient's size of the target.
    const double off =
        std::abs(static_cast<double>(r.images[s]) - static_cast<double>(r.targets[s]));
    EXPECT_LE(off, std::max(0.01 * static_cast<double>(items.size()), 8.0)) << split_names[s];
  }
  EXPECT_TRUE(r.coverage_warnings.empty());
  EXPECT_EQ(r.images[0] + r.images[1] + r.images[2], items.size());
}

TEST(prepare_split, is_deterministic_for_a_seed_and_differs_between_seeds) {
  const auto items = population(2);
  auto a = split_patients(items, 0.15, 0.05, 42);
  auto b = split_patients(items, 0.15, 0.05, 42);
  auto c = split_patients(items, 0.15, 0.05, 43);
  EXPECT_EQ(a.assignment, b.assignment);
  EXPECT_NE(a.assignment, c.assignment);
}

TEST(prepare_split, names_the_split_a_rare_class_misses) {
  std::vector<slice_item> items;
  for (int p = 0; p < 40; ++p) items.push_back(make_item(std::to_string(p + 1), 1, {box(2)}));
  items.push_back(make_item("999", 1, {box(0)}));  // EDH: one patient only
  auto r = split_patients(items, 0.15, 0.05, 42);
  ASSERT_EQ(r.coverage_warnings.size(), 2u);
  for (const auto& w : r.coverage_warnings) {
    EXPECT_NE(w.find("class EDH (1 patient)"), std::string::npos) << w;
    EXPECT_NE(w.find("fewer than 3"), std::string::npos) << w;
  }
}

feedback_table feedback(const std::vector<std::tuple<std::string, int, bool>>& rows) {
  feedback_table t;
  for (const auto& [p, i, fp] : rows) {
    feedback_row r;
    r.id = {p, std::to_string(i)};
    r.cls = fp ? feedback_class::fp : feedback_class::tn;
    t.rows.push_back(r);
  }
  return t;
}

TEST(prepare_balance, fills_each_split_exactly_to_its_shortfall_fp_first) {
  // train: 4 with, 1 without (need 3); valid: 2 with (need 2); test: 1 with (need 1).
  std::vector<slice_item> items = {make_item("1", 1, {box(2)}), make_item("1", 2, {box(2)}),
                                   make_item("2", 1, {box(3)}), make_item("2", 2, {box(3)}),
                                   make_item("3", 1),           make_item("4", 1, {box(4)}),
                                   make_item("4", 2, {box(4)}), make_item("5", 1, {box(5)})};
  const std::vector<std::size_t> assignment = {0, 0, 0, 0, 0, 1, 1, 2};
  std::vector<slice_item> pool;
  for (int p = 10; p < 20; ++p) pool.push_back(make_item(std::to_string(p), 1, {}, "no_hem"));
  pool.push_back(make_item("4", 9, {}, "no_hem"));  // patient 4 is in valid
  pool.push_back(make_item("4", 8, {}, "no_hem"));
  // TN rows first in the file, FP later: FP must still go first.
  auto table = feedback({{"10", 1, false},
                         {"11", 1, false},
                         {"12", 1, false},
                         {"13", 1, false},
                         {"4", 9, false},
                         {"18", 1, true},
                         {"19", 1, true},
                         {"4", 8, true}});
  auto r = balance_splits(items, assignment, pool, &table, 0.5);
  EXPECT_EQ(r.per_split[0].shortfall, 3u);
  EXPECT_EQ(r.per_split[1].shortfall, 2u);
  EXPECT_EQ(r.per_split[2].shortfall, 1u);
  for (std::size_t s = 0; s < split_count; ++s) {
    EXPECT_EQ(r.per_split[s].without_after, r.per_split[s].with_hemorrhage) << split_names[s];
    EXPECT_EQ(r.per_split[s].short_by, 0u);
  }
  EXPECT_EQ(r.per_split[0].added_fp + r.per_split[1].added_fp + r.per_split[2].added_fp, 3u);
  EXPECT_EQ(r.pool_available, (std::array<std::size_t, 3>{3, 5, 4}));
  // Patient 4's pool slices only ever go to valid.
  EXPECT_EQ(r.pool_assignment[11], 1u);  // FP
  EXPECT_TRUE(r.pool_assignment[10] == 1u || r.pool_assignment[10] == no_split);
  // No TN taken in a split while an FP that split could take was left over.
  EXPECT_EQ(r.pool_left[0], 0u);
  // Unlisted slices (14..17) are the last resort and not needed here.
  for (std::size_t i = 4; i < 8; ++i) EXPECT_EQ(r.pool_assignment[i], no_split) << i;
}

TEST(prepare_balance, a_new_patient_goes_to_one_split_only) {
  std::vector<slice_item> items;
  std::vector<std::size_t> assignment;
  for (int p = 0; p < 6; ++p) {
    items.push_back(make_item(std::to_string(p + 1), 1, {box(2)}));
    assignment.push_back(p < 4 ? 0 : (p == 4 ? 1 : 2));
  }
  std::vector<slice_item> pool;
  for (int k = 1; k <= 6; ++k) pool.push_back(make_item("77", k, {}, "no_hem"));
  for (int k = 1; k <= 6; ++k) pool.push_back(make_item("88", k, {}, "no_hem"));
  auto r = balance_splits(items, assignment, pool, nullptr, 0.5);
  std::map<std::string, std::set<std::size_t>> splits_of;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    if (r.pool_assignment[i] != no_split)
      splits_of[pool[i].id.patient].insert(r.pool_assignment[i]);
  }
  for (const auto& [p, s] : splits_of) EXPECT_EQ(s.size(), 1u) << p;
  EXPECT_EQ(r.per_split[0].without_after, 4u);
  EXPECT_EQ(r.pool_available[2], 12u);
}

TEST(prepare_balance, fills_what_it_can_when_the_pool_is_short) {
  std::vector<slice_item> items = {make_item("1", 1, {box(2)}), make_item("1", 2, {box(2)}),
                                   make_item("1", 3, {box(2)})};
  std::vector<slice_item> pool = {make_item("9", 1, {}, "no_hem")};
  auto r = balance_splits(items, {0, 0, 0}, pool, nullptr, 0.5);
  EXPECT_EQ(r.per_split[0].shortfall, 3u);
  EXPECT_EQ(r.per_split[0].without_after, 1u);
  EXPECT_EQ(r.per_split[0].short_by, 2u);
  EXPECT_EQ(r.pool_left, (std::array<std::size_t, 3>{0, 0, 0}));
}

TEST(prepare_load, maps_categories_by_name_and_rejects_one_that_maps_to_nothing) {
  testing::temp_dir dir;
  auto data = testing::make_dataset({{"1_1.jpg", {{0, {1, 1, 10, 10}}, {1, {2, 2, 10, 10}}}}});
  data.categories = {{0, "SDH", "", {}}, {1, "-", "", {}}};  // ids swapped on purpose
  testing::write_split(dir / "src/train", data);
  recipe_source s{"rf", "src", "rf_", {{"SDH", "SDH"}}, {"-"}, ""};
  auto loaded = load_source(s, dir.path());
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->items.size(), 1u);
  EXPECT_EQ(loaded->items[0].file_name, "rf_1_1.jpg");
  ASSERT_EQ(loaded->items[0].boxes.size(), 1u);
  EXPECT_EQ(loaded->items[0].boxes[0].category, 5);  // SDH in the 6-class set
  EXPECT_EQ(loaded->dropped_per_name.at("-"), 1u);

  s.drop.clear();
  auto bad = load_source(s, dir.path());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, core::error_code::bad_recipe);
  EXPECT_NE(bad.error().message.find("category '-'"), std::string::npos) << bad.error().message;

  recipe_source missing{"x", "nowhere", "x_", {{"SDH", "SDH"}}, {}, ""};
  auto absent = load_source(missing, dir.path());
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code, core::error_code::not_found);
}

TEST(prepare_merge, keeps_a_duplicate_slice_once_from_the_first_source) {
  loaded_source a, b;
  a.items = {make_item("5", 1, {box(2)}, "v3")};
  b.items = {make_item("5", 1, {box(0)}, "roboflow"), make_item("5", 2, {}, "roboflow")};
  testing::temp_dir dir;
  for (auto* it : {&a.items[0], &b.items[0], &b.items[1]}) {
    it->path = dir / it->file_name;
    testing::write_text(it->path, "x");
  }
  auto m = merge_sources({a, b});
  ASSERT_EQ(m.items.size(), 2u);
  EXPECT_EQ(m.items[0].source, "v3");
  ASSERT_EQ(m.duplicates.size(), 1u);
  EXPECT_EQ(m.duplicates[0].kept, "v3_5_1.jpg");
  // When the first source's file is missing, the copy that exists wins.
  fs::remove(a.items[0].path);
  auto m2 = merge_sources({a, b});
  EXPECT_EQ(m2.items[0].source, "roboflow");
}

TEST(prepare_missing, drops_and_lists_missing_files_and_fixes_sizes) {
  testing::temp_dir dir;
  std::vector<slice_item> items = {make_item("1", 1), make_item("1", 2)};
  items[0].path = dir / "a.png";
  testing::write_test_image(items[0].path, 40, 30);
  items[1].path = dir / "gone.png";
  auto r = drop_missing(items, 2);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(r.missing, (std::vector<std::string>{"v3_1_2.jpg"}));
  EXPECT_EQ(r.size_fixed, 1u);
  EXPECT_EQ(items[0].width, 40);
  EXPECT_EQ(items[0].height, 30);
}

}  // namespace
}  // namespace ctprep::pipeline
