// Any byte string given to validate's image check (imaging::verify_image: our PNG chunk
// parser and libdeflate inflate + unfilter, our JPEG entropy scan, libjpeg at 1/8 scale)
// and to the 8-bit PNG decoder ends in a digest or a named error, never a crash, a hang
// or undefined behaviour; whatever decodes has exactly width x height x channels pixels.
// Every JPEG our scan calls whole, libjpeg decodes without a warning, to the same
// constant-or-not verdict.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctprep/imaging/codec.hpp"
#include "imaging/codec_internal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto digest = ctprep::imaging::verify_image(bytes, "fuzz-input");
  if (digest && (digest->width <= 0 || digest->height <= 0 ||
                 (digest->channels != 1 && digest->channels != 3))) {
    __builtin_trap();
  }
  const auto scanned = ctprep::imaging::detail::scan_jpeg(bytes);
  if (scanned.verdict == ctprep::imaging::detail::scan_verdict::whole) {
    auto decoded = ctprep::imaging::detail::verify_jpeg_with_libjpeg(bytes, "fuzz-input");
    if (!decoded || decoded->constant != scanned.constant) __builtin_trap();
  }
  auto png = ctprep::imaging::detail::decode_png_8bit(bytes, "fuzz-input");
  if (png && *png) {
    const auto& image = **png;
    if (image.pixels.size() != static_cast<std::size_t>(image.width) *
                                   static_cast<std::size_t>(image.height) *
                                   static_cast<std::size_t>(image.channels)) {
      __builtin_trap();
    }
  }
  return 0;
}
