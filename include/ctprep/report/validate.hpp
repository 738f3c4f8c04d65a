// `validate`: the gate before training. The seed's eight checks done right, plus the
// ones a release manager adds (metadata.yaml agrees with the data, no duplicate
// slices). Findings are data (rule, severity, split, file, message); the human report
// and the JSON are two views of the same result. The library never decides the exit
// code: the CLI maps "any error finding" to 7.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"
#include "ctprep/core/progress.hpp"

namespace ctprep::report {

// Rule ids, in report order: the seed's eight, then the additional checks.
inline constexpr std::string_view rule_coco = "coco";                  // 1
inline constexpr std::string_view rule_classes = "classes";            // 2
inline constexpr std::string_view rule_leakage = "leakage";            // 3
inline constexpr std::string_view rule_images = "images";              // 4
inline constexpr std::string_view rule_boxes = "boxes";                // 5
inline constexpr std::string_view rule_augmentation = "augmentation";  // 6
inline constexpr std::string_view rule_balance = "balance";            // 7
inline constexpr std::string_view rule_four_class = "four_class";      // 8
inline constexpr std::string_view rule_metadata = "metadata";          // + metadata.yaml vs data
inline constexpr std::string_view rule_duplicates = "duplicates";      // + same slice twice

enum class severity { error, warning };
[[nodiscard]] std::string_view severity_name(severity s) noexcept;

struct finding {
  std::string rule;
  severity level = severity::error;
  std::string split;  // "" when the finding is about the whole dataset
  std::string file;   // image file name (or metadata.yaml, a category...), "" if none
  std::string message;
};

// One line of the human report under a rule: "✓ Train: 34,440/34,440 images readable".
enum class line_status { pass, fail, warn, skip };
struct report_line {
  line_status status = line_status::pass;
  std::string text;
};

struct rule_result {
  std::string id;
  std::string title;
  std::vector<report_line> lines;
  std::vector<std::string> notes;  // what was skipped or softened, and why
  std::uint64_t errors = 0;
  std::uint64_t warnings = 0;
};

struct validation {
  std::string dataset_dir;
  std::string kind;                   // "6class augmented", "4class original", "unknown"...
  int expected_classes = 0;           // 6, 4, or 0 when the class set is not known
  std::string expected_classes_from;  // "--expected-classes", "metadata.yaml", "categories"
  bool has_metadata = false;
  std::vector<rule_result> rules;  // in report order
  std::vector<finding> findings;   // in rule order, then as found (deterministic)
  [[nodiscard]] std::uint64_t errors() const;
  [[nodiscard]] std::uint64_t warnings() const;
  [[nodiscard]] bool passed() const { return errors() == 0; }
};

using progress_factory =
    std::function<std::unique_ptr<core::progress>(std::string label, std::uint64_t total)>;

struct validate_options {
  int expected_classes = 0;            // 0: from metadata.yaml, else from the categories
  bool skip_image_validation = false;  // rule 4 reads headers only, no full decode
  unsigned jobs = 0;                   // decode threads, 0: all cores
  progress_factory progress;           // optional, for the decode stage
};

// Validates one dataset folder (train/valid/test split folders, or one flat folder).
// Fails only when there is nothing to validate: not_found when the folder or every
// COCO file is missing, malformed_json/io_error when a COCO file cannot be read as
// JSON at all. Everything else is a finding.
[[nodiscard]] core::result<validation> validate_dataset(const std::filesystem::path& dir,
                                                        const validate_options& options = {});

// The dataset folders under a release root (e.g. v4/ holding 6class_coco_original,
// 6class_coco, 4class_coco_original, 4class_coco): its child folders that are
// datasets, sorted by name. Empty when `dir` is itself a dataset or holds none.
[[nodiscard]] std::vector<std::filesystem::path> find_datasets(const std::filesystem::path& dir);

// Validates several datasets in one pass: an image file shared between them (a
// 4-class symlink, a hard-linked original) is decoded once.
[[nodiscard]] core::result<std::vector<validation>> validate_datasets(
    const std::vector<std::filesystem::path>& dirs, const validate_options& options = {});

// The seed's report: one line per check with ✓/✗ and counts, then the failures
// grouped by rule with the first `max_items` named.
[[nodiscard]] std::string to_text(const validation& v, std::size_t max_items = 10);
// Every finding as data, plus the per-rule lines and totals.
[[nodiscard]] std::string to_json(const validation& v);
[[nodiscard]] std::string to_json(const std::vector<validation>& all);

}  // namespace ctprep::report
