// A small v4-like release built in the test: the 6-class original, its augmented
// variant and the two 4-class variants (relative symlinks), each with a metadata.yaml
// whose counts are computed from the data. It passes `validate` with zero findings, so
// a test can break exactly one thing and see exactly one rule fail.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "ctprep/core/dataset.hpp"

namespace ctprep::testing {

// (split name, dataset) in train, valid, test order.
using split_list = std::vector<std::pair<std::string, core::dataset>>;

// 3 splits x 12 originals: 6 hemorrhage images (v3_thick_/roboflow_ names, two boxes
// each, classes i and i+1, so every class is in every split twice) and 6 pool negatives
// of the same patients; each split has its own patients; 64x64 images.
[[nodiscard]] split_list release_originals();

// Train versions <stem>_aug0.._aug{m-1}<ext> with the original's boxes; valid/test as is.
[[nodiscard]] split_list release_augmented(const split_list& originals, int multiplier = 3);

// EDH/HC boxes removed (categories matched by name, 4-class ids); images left without
// boxes that had some are dropped, and counted in `dropped`.
[[nodiscard]] split_list release_four_class(const split_list& six, std::int64_t* dropped = nullptr);

struct metadata_spec {
  std::string type = "6class";
  std::string variant = "original";
  std::string original_dataset;    // "" leaves the key out
  int multiplier = 0;              // 0 leaves augmentation out
  std::string empty_image_policy;  // "" leaves four_class out
  std::int64_t dropped_images = -1;
};

// metadata.yaml text (docs/metadata.md) with every count computed from `splits`.
[[nodiscard]] std::string metadata_yaml(const split_list& splits, const metadata_spec& spec);

// Images (pattern seeds first_seed + running index) and one COCO file per split.
void write_dataset(const std::filesystem::path& dir, const split_list& splits,
                   unsigned first_seed = 0);
// Train _aug0 copied byte for byte from original_dir's train, other versions drawn
// with fresh seeds; valid/test copied from original_dir.
void write_augmented_dataset(const std::filesystem::path& dir,
                             const std::filesystem::path& original_dir, const split_list& splits,
                             unsigned first_seed = 128);
// Every image a relative symlink ../../<source folder name>/<split>/<name>.
void write_linked_dataset(const std::filesystem::path& dir, const std::filesystem::path& source_dir,
                          const split_list& splits);

// The whole release under root: 6class_coco_original, 6class_coco, 4class_coco_original,
// 4class_coco, each with its metadata.yaml.
void write_release(const std::filesystem::path& root);

}  // namespace ctprep::testing
