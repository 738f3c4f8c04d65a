// DICOM slice -> windowed PNG, in memory: the pixel path of `convert` and `download`.
//
// The path (SPEC 2 `convert`): decode (every transfer syntax GDCM reads), mask to
// BitsStored and sign-extend per PixelRepresentation, apply the modality LUT
// (RescaleSlope/Intercept), the VOI window (PS3.3 C.11.2.1.2: LINEAR, LINEAR_EXACT,
// SIGMOID, rounded to nearest), MONOCHROME1 inversion, and show PixelPaddingValue as
// black. RGB/YBR input is not windowed; it is converted to the output colour.
//
// Outcome vs error: anything wrong with the *item* (not DICOM, truncated, no pixel
// data, a codec that fails) is an outcome `failed` with a reason naming the origin and
// the tag or codec; `core::result` errors are kept for caller mistakes (bad options)
// and, in convert_file, a file that cannot be read at all.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"

namespace ctprep::dicom {

enum class window_kind { header, brain, subdural, bone, custom, multi };

struct window_spec {
  window_kind kind = window_kind::header;
  double center = 40;  // used by custom
  double width = 80;
  friend bool operator==(const window_spec&, const window_spec&) = default;
};

// "header", "brain", "subdural", "bone", "multi" or "C/W" such as "40/80" or "-600/1500".
// Errors: bad_argument (unknown name, width <= 0, not numbers).
[[nodiscard]] core::result<window_spec> parse_window(std::string_view text);
[[nodiscard]] std::string window_spec_name(const window_spec& spec);

enum class colour_mode { gray, rgb };

struct convert_options {
  window_spec window;
  colour_mode colour = colour_mode::gray;
  int bit_depth = 8;  // 8, or 16: HU + 1024 clipped to [0, 65535], no window
  bool filter_thickness = true;
  std::vector<double> accepted_thickness{5.0, 5.5};  // mm
  double thickness_tolerance = 0.1;                  // mm, inclusive
  int frame = 0;                                     // 0-based frame of a multi-frame object
  int png_compression = 1;                           // zlib level 0..9
};

enum class convert_outcome { converted, skipped_thickness, skipped_not_image, failed };
[[nodiscard]] std::string_view outcome_name(convert_outcome outcome) noexcept;

struct converted_slice {
  convert_outcome outcome = convert_outcome::failed;
  std::string reason;     // why skipped or failed ("" when converted)
  std::string png_bytes;  // the PNG when converted
  int width = 0;
  int height = 0;
  int channels = 0;                            // 1 gray, 3 RGB
  std::optional<std::string> patient_id;       // (0010,0020) when present
  std::optional<std::string> instance_number;  // (0020,0013) when present
  std::optional<double> thickness;             // mm, SliceThickness else SpacingBetweenSlices
  std::string transfer_syntax;                 // UID
  // The window used: "header 40/80 LINEAR", "brain 40/80", "multi", "none (RGB)"...
  std::string window_used;
  bool window_fell_back = false;      // header window missing/unusable: brain used instead
  std::vector<std::string> warnings;  // e.g. no thickness in the header
};

// Converts one DICOM object held in memory; `origin` names it in reasons (a path or URL).
// Errors (not outcomes): bad_argument for impossible options.
[[nodiscard]] core::result<converted_slice> convert_dicom(std::string_view dicom_bytes,
                                                          std::string_view origin,
                                                          const convert_options& options);

// Reads the file, then convert_dicom. Errors: not_found / io_error when it cannot be read.
[[nodiscard]] core::result<converted_slice> convert_file(const std::filesystem::path& path,
                                                         const convert_options& options);

// The thickness filter alone: true when `thickness` is within tolerance of an accepted one.
[[nodiscard]] bool thickness_accepted(double thickness, const convert_options& options) noexcept;

}  // namespace ctprep::dicom
