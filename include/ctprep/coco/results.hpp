// COCO detection results, the file a detector writes after inference:
// [{"image_id": 3, "category_id": 2, "bbox": [x, y, w, h], "score": 0.9}, ...]
// or the same with "file_name" instead of "image_id" (RF-DETR-style exports keyed by
// image name). Parsed with simdjson: 500,000 detections load in a few tens of ms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/dataset.hpp"
#include "ctprep/core/error.hpp"

namespace ctprep::coco {

struct detection {
  // The image: its id, or (when the file keys images by name) an index into
  // result_set::file_names, with image_id left at no_image.
  std::int64_t image_id = no_image;
  std::uint32_t name_index = no_name;
  std::int64_t category_id = 0;
  core::box bbox;
  double score = 0;

  static constexpr std::int64_t no_image = std::numeric_limits<std::int64_t>::min();
  static constexpr std::uint32_t no_name = std::numeric_limits<std::uint32_t>::max();
};

struct result_set {
  std::vector<detection> detections;    // in file order
  std::vector<std::string> file_names;  // distinct names, first-seen order (name-keyed files)
};

// Every detection needs a category_id (integer), a bbox of 4 finite numbers with
// non-negative width and height, a finite score, and exactly one of image_id (integer)
// or file_name (string); other keys are ignored. Errors (bad_coco, malformed_json) give
// the JSON path, e.g. "results[17].score is not finite"; a bare NaN/Infinity token
// (what Python's json.dump writes for float('nan')) is named as a non-finite number.
// Large files are cut into runs of whole detections parsed by `jobs` threads (0: all
// cores); the result and any error message do not depend on `jobs`. Runs are about
// `run_bytes` long (0: 1 MiB), and only texts longer than two runs are cut: tests and the
// fuzz target pass a few dozen bytes to reach the cutting path with small inputs; the
// result does not depend on it either.
[[nodiscard]] core::result<result_set> parse_results(std::string_view json, std::string_view origin,
                                                     unsigned jobs = 0, std::size_t run_bytes = 0);
[[nodiscard]] core::result<result_set> read_results(const std::filesystem::path& path,
                                                    unsigned jobs = 0);

}  // namespace ctprep::coco
