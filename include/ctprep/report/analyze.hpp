// `analyze`: what a dataset holds, per split and overall (the seed's Part 4), counted
// from the data itself: originals vs augmented versions by the identity rule (no
// hard-coded multiplier), classes by category name, patients by slice identity.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ctprep/core/error.hpp"

namespace ctprep::report {

struct class_count {
  std::string name;
  std::uint64_t annotations = 0;
  std::uint64_t images = 0;           // images with at least one box of the class
  std::uint64_t original_images = 0;  // the same among originals
};

struct split_analysis {
  std::string name;
  std::uint64_t images = 0;
  std::uint64_t originals = 0;  // no _aug suffix, or _aug0
  std::uint64_t augmented = 0;  // _aug1 and above
  std::uint64_t annotations = 0;
  std::vector<class_count> classes;  // in the file's category order
  std::uint64_t images_without_hemorrhage = 0;
  std::uint64_t images_with_hemorrhage = 0;
  std::uint64_t originals_without_hemorrhage = 0;
  std::uint64_t originals_with_hemorrhage = 0;
  std::map<std::string, std::uint64_t> sources;  // v3, roboflow, no_hem -> images
  std::uint64_t patients = 0;
  std::vector<std::string> identity_errors;  // file names the identity rule cannot read
};

struct patient_overlap {
  std::string first, second;
  std::uint64_t patients = 0;
  std::vector<std::string> examples;  // up to 10 patient ids
};

struct dataset_analysis {
  std::string dataset_dir;
  std::vector<split_analysis> splits;
  std::vector<patient_overlap> overlaps;  // every pair of splits, in split order
  std::uint64_t total_patients = 0;
  std::uint64_t total_originals = 0;
  std::uint64_t originals_with_hemorrhage = 0;
  std::uint64_t originals_without_hemorrhage = 0;
  std::vector<class_count> classes;  // over all splits, in category order
};

[[nodiscard]] core::result<dataset_analysis> analyze_dataset(const std::filesystem::path& dir);

[[nodiscard]] std::string to_text(const dataset_analysis& analysis);
[[nodiscard]] std::string to_json(const dataset_analysis& analysis);

}  // namespace ctprep::report
