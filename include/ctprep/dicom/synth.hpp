// Synthetic head-CT DICOM: realistic enough for the converter, the downloader and the
// demo world, and deterministic for a seed. 512x512 signed 16-bit slices, slope 1 /
// intercept -1024, PixelPaddingValue -2000 outside the circular field of view, skull,
// brain, ventricles and hemorrhage blobs whose boxes are returned (and written as a
// COCO sidecar by write_series).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/dataset.hpp"
#include "ctprep/core/error.hpp"

namespace ctprep::dicom {

enum class synth_syntax { explicit_le, implicit_le, explicit_be, rle, jpeg_ls, j2k, jpeg_lossless };

// "explicit", "implicit", "big", "rle", "jpegls", "j2k", "jpeg-lossless".
[[nodiscard]] core::result<synth_syntax> parse_synth_syntax(std::string_view name);
[[nodiscard]] std::string_view synth_syntax_name(synth_syntax syntax) noexcept;
[[nodiscard]] std::string_view synth_syntax_uid(synth_syntax syntax) noexcept;

struct synth_box {
  std::int64_t category_id = 0;  // 6-class ids 0..5 (EDH HC IPH IVH SAH SDH)
  core::box bbox;                // pixels, exact hull of the blob's pixels
};

struct synth_slice_spec {
  std::string patient_id = "500000001";  // digits, so the identity rule reads it
  int instance = 1;                      // 1..slices_in_series
  int slices_in_series = 32;             // where the slice sits in the head
  double thickness = 5.0;                // mm, written as SliceThickness (0018,0050)
  synth_syntax syntax = synth_syntax::explicit_le;
  std::uint64_t seed = 42;
  bool multi_valued_window = false;  // WindowCenter "40\300", WindowWidth "80\1500"
  int series_number = 1;
};

struct synth_slice {
  std::string bytes;  // the Part 10 file
  std::vector<synth_box> boxes;
  std::vector<std::int16_t> stored;  // the stored values written (512*512, row-major)
};

// One slice in memory (e.g. for an object store). Same spec -> same bytes.
[[nodiscard]] core::result<synth_slice> synthesize_slice(const synth_slice_spec& spec);

struct synth_options {
  std::filesystem::path out_dir;
  int series = 1;
  int slices = 32;
  std::uint64_t seed = 42;
  synth_syntax syntax = synth_syntax::explicit_le;
  double wrong_thickness_fraction = 0.1;  // exact share of slices with a rejected thickness
  double thick_55_fraction = 0.2;         // share of the rest at 5.5 mm (others 5.0)
  unsigned jobs = 0;
};

struct synth_file {
  std::filesystem::path path;  // <out>/<patient_id>/<instance>.dcm
  std::string patient_id;
  int instance = 0;
  double thickness = 0;
  std::vector<synth_box> boxes;
};

struct synth_result {
  std::vector<synth_file> files;    // series by series, instances ascending
  std::filesystem::path coco_path;  // <out>/synth_annotations.coco.json
  core::dataset boxes;              // its content: images "<pid>_<inst>.png", 6 classes
};

// Writes the series (atomically, in parallel; bytes do not depend on jobs).
[[nodiscard]] core::result<synth_result> write_series(const synth_options& options);

// The name of the sidecar COCO file write_series writes.
inline constexpr std::string_view synth_coco_name = "synth_annotations.coco.json";

}  // namespace ctprep::dicom
