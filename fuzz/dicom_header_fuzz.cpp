// Any byte string given to the DICOM header reader ends in a header or an error, never a
// crash, a hang or undefined behaviour. Native pixel data found by the reader is decoded
// and rendered too (GDCM is not called: it is not instrumented here).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctprep/dicom/header.hpp"
#include "ctprep/dicom/pixels.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto h = ctprep::dicom::parse_header(bytes, "fuzz-input");
  if (!h || !h->has_pixel_data || h->encapsulated ||
      !ctprep::dicom::is_native_syntax(h->transfer_syntax)) {
    return 0;
  }
  auto frame = ctprep::dicom::decode_frame(bytes, *h, 0, "fuzz-input");
  if (!frame) return 0;
  ctprep::dicom::convert_options options;
  auto image = ctprep::dicom::render(*frame, *h, options, "fuzz-input");
  if (image && image->pixels8.size() != static_cast<std::size_t>(image->width) *
                                            static_cast<std::size_t>(image->height) *
                                            static_cast<std::size_t>(image->channels)) {
    __builtin_trap();
  }
  return 0;
}
