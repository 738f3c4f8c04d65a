// `prepare`: the v4 build of SPEC 2 as plain stages (load, remap, merge, drop missing,
// clip, split, balance, write, augment, 4-class) and one function that runs them in the
// numbered order and logs each step with its counts.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"
#include "ctprep/core/identity.hpp"
#include "ctprep/core/progress.hpp"
#include "ctprep/imaging/augment.hpp"
#include "ctprep/pipeline/feedback_csv.hpp"
#include "ctprep/pipeline/recipe.hpp"

namespace ctprep::pipeline {

inline constexpr std::array<std::string_view, 3> split_names = {"train", "valid", "test"};
inline constexpr std::size_t split_count = 3;
inline constexpr std::size_t no_split = 3;

// One slice on its way into the dataset.
struct slice_item {
  std::string file_name;       // output name (source prefix applied)
  std::filesystem::path path;  // the file it comes from
  std::int64_t width = 0, height = 0;
  std::vector<imaging::labeled_box> boxes;  // 6-class ids
  core::slice_id id;
  std::string source;  // recipe source name, or "no_hem" for the pool
  [[nodiscard]] bool has_hemorrhage() const { return !boxes.empty(); }
};

struct log_sinks {
  std::function<void(std::string_view)> info = [](std::string_view) {};
  std::function<void(std::string_view)> warn = [](std::string_view) {};
};

// ---- [1-4/9] load and remap one source ----
struct loaded_source {
  std::string name;
  std::vector<slice_item> items;
  std::map<std::string, std::size_t> images_per_split;
  std::map<std::string, std::size_t> boxes_per_name;    // kept boxes by source category name
  std::map<std::string, std::size_t> dropped_per_name;  // boxes of dropped names
  std::vector<std::string> bad_names;                   // file names the identity rule rejects
};
[[nodiscard]] core::result<loaded_source> load_source(const recipe_source& source,
                                                      const std::filesystem::path& data_root);

// ---- [4.5/9] the no-hemorrhage pool (its COCO file, else the image files) ----
[[nodiscard]] core::result<loaded_source> load_pool(const std::filesystem::path& dir,
                                                    std::string_view prefix, unsigned jobs);

// ---- [5/9] merge: duplicates (same slice identity) kept once ----
struct duplicate_slice {
  std::string kept, dropped;
};
struct merge_result {
  std::vector<slice_item> items;
  std::vector<duplicate_slice> duplicates;
};
// The rule: the first source in recipe order whose file exists wins; within a source the
// first split (train, valid, test), then the first file name.
[[nodiscard]] merge_result merge_sources(std::vector<loaded_source> sources);

// ---- [5.5/9] files that are missing or unreadable are dropped and listed ----
struct missing_report {
  std::vector<std::string> missing;  // file names
  std::vector<std::string> broken;   // "name: reason"
  std::size_t size_fixed = 0;        // COCO width/height replaced by the file's
};
missing_report drop_missing(std::vector<slice_item>& items, unsigned jobs);

// ---- [5.6/9] clip boxes to the image, area recomputed, < 1 px dropped ----
struct clip_report {
  std::size_t clipped = 0;                  // boxes that reached past an edge
  std::size_t dropped_boxes = 0;            // boxes left under 1 px wide or high
  std::vector<std::string> emptied_images;  // had boxes, none left: dropped
};
clip_report clip_boxes(std::vector<slice_item>& items);

// ---- [6/9] patient-level split ----
struct split_result {
  std::vector<std::size_t> assignment;  // per item: 0 train, 1 valid, 2 test
  std::array<std::size_t, split_count> targets{};
  std::array<std::size_t, split_count> images{};
  std::array<std::size_t, split_count> patients{};
  std::array<std::array<std::size_t, 6>, split_count> class_images{};  // images with class c
  std::vector<std::string> coverage_warnings;  // "class EDH (2 patients) is missing from test"
};
[[nodiscard]] split_result split_patients(const std::vector<slice_item>& items,
                                          double valid_fraction, double test_fraction,
                                          std::uint64_t seed);

// ---- [6.2/9] + [6.5/9] balance ----
enum class pool_tier { fp = 0, tn = 1, unlisted = 2 };
struct split_balance {
  std::size_t with_hemorrhage = 0, without_before = 0, shortfall = 0;
  std::size_t added_fp = 0, added_tn = 0, added_unlisted = 0, without_after = 0, short_by = 0;
};
struct balance_result {
  std::vector<std::size_t> pool_assignment;  // per pool item: split, or no_split (left over)
  std::vector<pool_tier> pool_tiers;         // per pool item
  std::array<split_balance, split_count> per_split{};
  std::array<std::size_t, 3> pool_available{};  // by tier
  std::array<std::size_t, 3> pool_left{};       // by tier
};
// Per split: shortfall = round(with × r / (1 − r)) − without (≥ 0). Pool slices are taken
// FP first (CSV order), then TN (CSV order), then slices the CSV does not list (by name).
// A slice of a patient already in a split can only go to that split; a new patient is
// bound to one split (the one with the largest share of its shortfall still open) by its
// first slice taken; a split never takes more than its shortfall.
[[nodiscard]] balance_result balance_splits(const std::vector<slice_item>& items,
                                            const std::vector<std::size_t>& assignment,
                                            const std::vector<slice_item>& pool,
                                            const feedback_table* feedback, double target_ratio);

// ---- the whole run ----
struct prepare_options {
  recipe r;
  std::filesystem::path data_root;  // resolved
  std::filesystem::path output;     // resolved: the folder holding 6class_coco, ...
  unsigned jobs = 0;
  bool dry_run = false;
  bool skip_augmentation = false;
  std::function<std::unique_ptr<core::progress>(std::string, std::uint64_t)> make_progress;
};

struct prepare_report {
  std::size_t warnings = 0;
  std::array<std::size_t, split_count> final_images{};
  std::size_t augmented_written = 0, augmented_dropped = 0;
};

[[nodiscard]] core::result<prepare_report> run_prepare(const prepare_options& options,
                                                       const log_sinks& log);

// The four output folder names.
inline constexpr std::array<std::string_view, 4> output_folders = {
    "6class_coco_original", "6class_coco", "4class_coco_original", "4class_coco"};

}  // namespace ctprep::pipeline
