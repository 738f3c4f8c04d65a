// Where the COCO files of a dataset folder are: split subfolders
// (train/valid/test/_annotations.coco.json, the Roboflow/RF-DETR layout) or one flat
// _annotations.coco.json.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ctprep/core/dataset.hpp"
#include "ctprep/core/error.hpp"

namespace ctprep::coco {

inline constexpr const char* split_names[] = {"train", "valid", "test"};

struct split_ref {
  std::string name;                 // "train", "valid", "test", or the folder name if flat
  std::filesystem::path dir;        // where the images are
  std::filesystem::path json_path;  // the split's COCO file
};

// The splits of `dataset_dir` in train, valid, test order; a flat folder gives one split
// named after the folder. not_found when the folder or any COCO file is missing.
[[nodiscard]] core::result<std::vector<split_ref>> find_splits(
    const std::filesystem::path& dataset_dir);

struct loaded_split {
  split_ref ref;
  core::dataset data;
};

// find_splits + read_file for each split.
[[nodiscard]] core::result<std::vector<loaded_split>> load_splits(
    const std::filesystem::path& dataset_dir);

}  // namespace ctprep::coco
