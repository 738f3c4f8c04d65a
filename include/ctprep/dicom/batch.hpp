// Many DICOM files to PNGs on disk: what `ctprep convert` runs. Inputs are files and
// folders (recursive); every input ends in exactly one outcome, recorded in input order
// so the result does not depend on the thread count. PNGs are written atomically, and
// a complete PNG already at the output path is kept unless `overwrite`.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ctprep/core/error.hpp"
#include "ctprep/core/progress.hpp"
#include "ctprep/dicom/convert.hpp"

namespace ctprep::dicom {

struct batch_input {
  std::filesystem::path path;
  std::filesystem::path relative;  // below the folder given, or the file name
};

// Expands files and folders (recursively; hidden names and, inside folders, files ending
// in .json .txt .csv .png .jpg .jpeg .md .yaml .yml .log .html .xml are skipped), sorted
// by path within a folder. Errors: not_found for an input that does not exist.
[[nodiscard]] core::result<std::vector<batch_input>> list_inputs(
    const std::vector<std::filesystem::path>& inputs);

struct batch_options {
  convert_options convert;
  std::filesystem::path out_dir;
  // Empty: the input's relative path with ".png". Otherwise a template with
  // {patient_id}, {instance} and {stem}, e.g. "{patient_id}_{instance}" (".png" added).
  std::string name_template;
  bool overwrite = false;
  unsigned jobs = 0;
  core::progress* progress = nullptr;
};

// Checks a template: only known fields, no path separators outside the fields.
[[nodiscard]] core::result<void> check_name_template(std::string_view name_template);

struct batch_item {
  std::filesystem::path input;
  std::filesystem::path output;  // empty when no name could be made
  convert_outcome outcome = convert_outcome::failed;
  bool already_present = false;  // a complete PNG was there and kept
  std::string reason;
  std::optional<std::string> patient_id;
  std::optional<std::string> instance_number;
  std::optional<double> thickness;
  std::string window_used;
  bool window_fell_back = false;
  std::vector<std::string> warnings;
};

struct batch_result {
  std::vector<batch_item> items;  // input order
  std::size_t converted = 0;      // written now
  std::size_t already_present = 0;
  std::size_t skipped_thickness = 0;
  std::size_t skipped_not_image = 0;
  std::size_t failed = 0;
};

// Errors: not_writable when the output folder cannot be created or written; bad_argument
// for impossible options. Bad items are outcomes, not errors.
[[nodiscard]] core::result<batch_result> convert_batch(const std::vector<batch_input>& inputs,
                                                       const batch_options& options);

// True when `path` holds a whole PNG (signature, then an IEND chunk at the very end).
[[nodiscard]] bool is_complete_png(const std::filesystem::path& path);

// One JSON object per line, per item (the --log format).
[[nodiscard]] std::string to_json_lines(const batch_result& result);

}  // namespace ctprep::dicom
