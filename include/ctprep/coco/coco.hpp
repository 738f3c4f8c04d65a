// Reading and writing COCO JSON with precise errors. Reading checks what a COCO
// consumer relies on and says exactly where it breaks (byte offset and line:column for
// malformed JSON, a JSON path such as annotations[17].bbox[2] for wrong types).
// Writing is deterministic (fixed key order, shortest round-trip numbers) and atomic.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "ctprep/core/dataset.hpp"
#include "ctprep/core/error.hpp"

namespace ctprep::coco {

struct write_options {
  int indent = 0;  // 0: compact; n > 0: pretty, n spaces per level
};

// `origin` names the text in error messages (usually the file path).
[[nodiscard]] core::result<core::dataset> parse(std::string_view json, std::string_view origin);
[[nodiscard]] core::result<core::dataset> read_file(const std::filesystem::path& path);

[[nodiscard]] std::string to_json(const core::dataset& data, const write_options& options = {});
[[nodiscard]] core::result<void> write_file(const std::filesystem::path& path,
                                            const core::dataset& data,
                                            const write_options& options = {});

// The name COCO files have in a split folder (Roboflow and RF-DETR layout).
inline constexpr std::string_view annotations_file_name = "_annotations.coco.json";

}  // namespace ctprep::coco
