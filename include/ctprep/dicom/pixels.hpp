// The stages of the pixel path, exposed one by one so that the benchmark can time them
// and other code can reuse them: decode one frame to stored values, then render it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"
#include "ctprep/dicom/convert.hpp"
#include "ctprep/dicom/header.hpp"

namespace ctprep::dicom {

// One decoded frame: samples in native byte order, interleaved (planar input is
// interleaved here), `bits_allocated` 8, 16 or 32 per sample.
struct decoded_frame {
  int width = 0;
  int height = 0;
  int samples = 1;
  int bits_allocated = 16;
  int bits_stored = 16;
  int high_bit = 15;
  bool is_signed = false;
  std::string photometric;  // as decoded (GDCM may turn JPEG YBR into RGB)
  std::vector<std::uint8_t> data;
  // Native little-endian interleaved samples are not copied: `borrowed` then points into
  // the bytes given to decode_frame, which must outlive the frame.
  const std::uint8_t* borrowed = nullptr;
  [[nodiscard]] const std::uint8_t* sample_data() const {
    return borrowed ? borrowed : data.data();
  }
  [[nodiscard]] std::size_t sample_bytes() const {
    return borrowed ? static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                          static_cast<std::size_t>(samples * (bits_allocated / 8))
                    : data.size();
  }
};

// Decodes frame `frame` (0-based). Native syntaxes are read directly from the bytes;
// encapsulated ones go through GDCM. Errors: corrupt_dicom / unsupported_dicom naming
// `origin` and the tag or codec.
[[nodiscard]] core::result<decoded_frame> decode_frame(std::string_view dicom_bytes,
                                                       const header& h, int frame,
                                                       std::string_view origin);

// The rendered slice: 8-bit gray/RGB, or 16-bit gray (HU + 1024) when bit_depth is 16.
struct rendered {
  int width = 0;
  int height = 0;
  int channels = 1;
  int bit_depth = 8;
  std::vector<std::uint8_t> pixels8;
  std::vector<std::uint16_t> pixels16;
  std::string window_used;
  bool window_fell_back = false;
  std::vector<std::string> warnings;
};

// Modality LUT, VOI window, MONOCHROME1 inversion, padding (see convert.hpp).
[[nodiscard]] core::result<rendered> render(const decoded_frame& frame, const header& h,
                                            const convert_options& options,
                                            std::string_view origin);

// The PS3.3 C.11.2.1.2 VOI functions on one modality value, output in [0, 255] before
// rounding; exposed for tests. `function` is "LINEAR", "LINEAR_EXACT" or "SIGMOID".
[[nodiscard]] double voi_value(double x, double center, double width,
                               std::string_view function) noexcept;

}  // namespace ctprep::dicom
