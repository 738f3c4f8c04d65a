// `synth world`: the source layout of SPEC 1 under a data root, with CT-like slices:
// a V3 4-class COCO (train/valid/test, thin_/thick_ names), a Roboflow 8-category export
// (all three splits, `_png.rf.<hash>.jpg` names, noise categories "-" and "0"), a
// no-hemorrhage pool (PNG + its COCO) and the feedback CSV (FP and TN rows, s3:// URLs).
// Patients are shared across sources; a few slices are in both V3 and Roboflow, a few
// boxes reach past the image edge and a few listed files are missing. The same seed
// gives the same bytes whatever the thread count.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "ctprep/core/error.hpp"
#include "ctprep/core/progress.hpp"

namespace ctprep::pipeline {

struct world_scale {
  std::size_t v3_images = 0, roboflow_images = 0, duplicates = 0, patients = 0;
  std::size_t pool_images = 0, csv_rows = 0, fp_rows = 0;
  std::size_t missing_v3 = 0, missing_roboflow = 0, missing_pool = 0, edge_boxes = 0;
  int size = 512;  // image width and height
};

// "demo" (seconds) or "v4" (the real build: 6,999 V3, 3,782 Roboflow, ~2,864 patients,
// ~3,700 pool slices, 325,000 CSV rows with ~200 FP); bad_argument otherwise.
[[nodiscard]] core::result<world_scale> world_scale_named(std::string_view name);

struct world_summary {
  std::size_t v3_images = 0, roboflow_images = 0, pool_images = 0, patients = 0;
  std::size_t csv_rows = 0, fp_rows = 0, missing_files = 0, edge_boxes = 0, duplicates = 0;
};

[[nodiscard]] core::result<world_summary> synth_world(const std::filesystem::path& data_root,
                                                      const world_scale& scale, std::uint64_t seed,
                                                      unsigned jobs,
                                                      core::progress* progress = nullptr);

}  // namespace ctprep::pipeline
