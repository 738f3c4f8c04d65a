// What the validate rule families share: the loaded dataset, what metadata.yaml says,
// what was learned about every image file, and the finding sink. Private to report/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ctprep/core/dataset.hpp"
#include "ctprep/core/identity.hpp"
#include "ctprep/report/validate.hpp"

namespace ctprep::report::detail {

namespace fs = std::filesystem;

// ---- metadata.yaml (docs/metadata.md); every field optional ----
struct metadata_split_counts {
  std::optional<std::uint64_t> images, originals, patients, with_hemorrhage, without_hemorrhage,
      annotations;
};
struct metadata_balance_split {
  std::optional<std::uint64_t> with_hemorrhage, without_before, shortfall, added_fp, added_tn,
      without_after, short_by;
};
struct metadata {
  bool present = false;
  std::optional<std::string> version, type, variant, original_dataset, empty_image_policy;
  std::optional<std::vector<std::string>> classes;
  std::map<std::string, metadata_split_counts> splits;
  std::optional<double> target_ratio;
  std::map<std::string, metadata_balance_split> balance;
  std::optional<std::int64_t> multiplier;
  std::optional<std::vector<std::string>> augmented_splits;
  std::set<std::string> dropped_versions;
  std::optional<std::uint64_t> four_class_dropped_images;
  std::vector<std::string> problems;  // keys with a wrong type or value (rule metadata)
};

// Reads `<dir>/metadata.yaml`; absent gives present = false; a YAML syntax error
// gives present = true with one problem.
[[nodiscard]] metadata read_metadata(const fs::path& dir);

// ---- image files ----
// What one image file turned out to be, shared between datasets (keyed by inode).
struct file_check {
  bool readable = false;  // exists and fully decodes (or its header parses, when skipping)
  std::string error;      // why not
  std::int64_t width = 0, height = 0;
  std::uint64_t content_hash = 0;  // imaging::verify_image's (of the bytes when skipping decode)
  std::uint64_t size = 0;
  bool constant = false;  // every pixel the same (a blank slice)
};

struct file_key {
  std::uint64_t device = 0, inode = 0, size = 0;
  std::int64_t mtime_ns = 0;
  friend bool operator==(const file_key&, const file_key&) = default;
};
struct file_key_hash {
  std::size_t operator()(const file_key& k) const noexcept {
    return static_cast<std::size_t>(k.device * 0x9E3779B97F4A7C15ULL ^ k.inode * 31 ^ k.size);
  }
};
using file_cache = std::unordered_map<file_key, file_check, file_key_hash>;

// One image entry of a split as found on disk.
struct entry_state {
  bool plain_name = true;  // no folder part, not "." or ".."
  bool exists = false;     // something is there (lstat)
  bool is_symlink = false;
  std::string link_target;  // readlink text
  bool resolves = false;    // stat (following links) finds a regular file
  fs::path resolved;        // canonical target of a symlink that resolves
  file_key key;
  const file_check* check = nullptr;  // when resolves
};

struct split_state {
  std::string name;
  fs::path dir, json_path;
  bool loaded = false;  // the COCO file parsed; otherwise only rule 1 saw it
  std::string load_error;
  core::dataset data;
  std::vector<entry_state> entries;                     // aligned with data.images
  std::vector<std::optional<core::slice_id>> identity;  // aligned with data.images
  std::vector<std::optional<int>> version;              // _aug<k>, aligned
  // Annotations per image index, and category name per category id.
  std::vector<std::vector<std::size_t>> boxes_of;
  std::unordered_map<std::int64_t, std::string> category_name;
};

// What kind of dataset this is, settled once.
struct context {
  fs::path root;
  validate_options options;
  metadata meta;
  std::vector<split_state> splits;
  int expected_classes = 0;  // 6, 4 or 0 (unknown set)
  std::vector<std::string> expected_names;
  std::string expected_from;
  bool four_class = false;  // a 4-class variant (rule 8's filtering applies)
  bool augmented = false;   // an augmented variant (rule 6 applies in full)

  validation out;
  rule_result* current = nullptr;

  rule_result& begin_rule(std::string_view id, std::string_view title);
  void add(severity level, std::string split, std::string file, std::string message);
  void line(line_status status, std::string text);
  void note(std::string text);
};

// Rule families (validate_*.cpp).
void check_coco(context& c);
void check_classes(context& c);
void check_leakage(context& c);
void check_images(context& c);
void check_boxes(context& c);
void check_augmentation(context& c);
void check_balance(context& c);
void check_four_class(context& c);
void check_metadata(context& c);
void check_duplicates(context& c);

// Fills entry_state for every loaded split and decodes the files not yet in `cache`.
void scan_files(std::vector<context*>& datasets, file_cache& cache,
                const validate_options& options);

// Helpers.
[[nodiscard]] std::string thousands(std::uint64_t n);
[[nodiscard]] std::string percent(std::uint64_t part, std::uint64_t whole);
[[nodiscard]] std::string capitalize(std::string s);
[[nodiscard]] bool is_original(const std::optional<int>& version);  // no _aug or _aug0
[[nodiscard]] bool is_removed_class(std::string_view name);         // EDH or HC

}  // namespace ctprep::report::detail
