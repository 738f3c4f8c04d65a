// The prepare recipe: where the sources are, how their categories map onto the 6-class
// set (by name, never by id), and the split/balance/augmentation settings. A YAML file
// (`--recipe F`) or the built-in v4 recipe; `to_yaml` gives the canonical text that
// `--print-recipe` shows and that the recipe digest in metadata.yaml is taken of.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"

namespace ctprep::pipeline {

struct recipe_source {
  std::string name;    // "v3", "roboflow": the source name in reports and metadata
  std::string path;    // COCO folder (split subfolders or flat), relative to data_root
  std::string prefix;  // prepended to every file name when merged ("v3_")
  // Category name in the source file -> 6-class name. Names listed in `drop` lose their
  // boxes; a name in neither is a bad_recipe error (a class that maps to nothing).
  std::map<std::string, std::string> classes;
  std::vector<std::string> drop;
  // Optional ECMAScript regex with two groups (patient, instance) matched against the
  // file name when the names of this source do not follow the identity rule.
  std::string identity_pattern;
};

enum class empty_image_policy { drop, keep_negative };
[[nodiscard]] std::string_view policy_name(empty_image_policy p) noexcept;  // drop | keep-negative

struct recipe {
  std::string version = "v4";
  std::string data_root = "data";               // relative to the current folder (or absolute)
  std::string output = "training_datasets/v4";  // relative to data_root
  std::uint64_t seed = 42;
  double valid_fraction = 0.15;
  double test_fraction = 0.05;
  double target_ratio = 0.5;  // no-hemorrhage share each split is balanced to
  int multiplier = 3;         // augmented versions per train image, version 0 included
  int jpeg_quality = 95;
  empty_image_policy four_class_empty = empty_image_policy::drop;
  std::vector<recipe_source> sources;
  std::string pool_path = "training_datasets/no_hemorrhage_downloads";  // "" = no pool
  std::string pool_prefix;  // pool names are kept as they are (SPEC 1)
  std::string feedback_csv = "metadata/no_hemorrhage_positive_feedback.csv";  // "" = none
};

// The v4 build of SPEC 1: V3 (4-class) + Roboflow (8 categories) + the no-hem pool.
[[nodiscard]] recipe default_recipe();

// Parses recipe YAML. Keys not listed in docs/cli.md are bad_recipe (a typo must not
// silently fall back to a default); `origin` names the file in errors. Keys left out
// keep the default_recipe() values (sources: the default sources when absent).
[[nodiscard]] core::result<recipe> parse_recipe(std::string_view yaml, std::string_view origin);
[[nodiscard]] core::result<recipe> read_recipe(const std::filesystem::path& path);

// Canonical YAML of the recipe (fixed key order); parse_recipe(to_yaml(r)) == r.
[[nodiscard]] std::string to_yaml(const recipe& r);

// "sha256:<hex>" of to_yaml(r) with data_root left empty (a release does not depend on
// where its data root is).
[[nodiscard]] std::string recipe_digest(const recipe& r);

}  // namespace ctprep::pipeline
