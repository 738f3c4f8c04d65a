// A small, strict reader of the DICOM attributes a slice conversion needs, without
// decoding pixels: `download` and `convert` scan thousands of files, and the thickness
// filter decides before any decode. Reads Part 10 files (preamble + "DICM" + group 2)
// and bare datasets without a meta header (implicit VR little endian, PS3.5 A.1), in
// implicit/explicit little endian, explicit big endian and deflated explicit little
// endian (inflated in memory). Every length is checked against the bytes left, so a
// truncated or hostile file is an error naming the offset and tag, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"

namespace ctprep::dicom {

struct tag_t {
  std::uint16_t group = 0;
  std::uint16_t element = 0;
  friend bool operator==(const tag_t&, const tag_t&) = default;
};

struct header {
  std::string transfer_syntax;  // (0002,0010) UID, or "1.2.840.10008.1.2" without meta
  bool has_meta = false;        // a Part 10 file (preamble, DICM, group 2)
  bool explicit_vr = true;
  bool big_endian = false;
  bool deflated = false;
  std::string media_storage_sop_class;           // (0002,0002)
  std::string sop_class_uid;                     // (0008,0016)
  std::string modality;                          // (0008,0060)
  std::optional<std::string> patient_id;         // (0010,0020), trimmed
  std::optional<std::string> instance_number;    // (0020,0013), trimmed
  std::optional<double> slice_thickness;         // (0018,0050)
  std::optional<double> spacing_between_slices;  // (0018,0088)

  // Image pixel module (PS3.3 C.7.6.3); absent values stay empty.
  std::optional<int> samples_per_pixel;     // (0028,0002)
  std::string photometric;                  // (0028,0004), trimmed
  std::optional<int> planar_configuration;  // (0028,0006)
  std::optional<int> number_of_frames;      // (0028,0008)
  std::optional<int> rows;                  // (0028,0010)
  std::optional<int> columns;               // (0028,0011)
  std::optional<int> bits_allocated;        // (0028,0100)
  std::optional<int> bits_stored;           // (0028,0101)
  std::optional<int> high_bit;              // (0028,0102)
  std::optional<int> pixel_representation;  // (0028,0103): 0 unsigned, 1 two's complement
  // (0028,0120)/(0028,0121), raw 16-bit patterns, read with PixelRepresentation later
  std::optional<std::uint32_t> pixel_padding_value;
  std::optional<std::uint32_t> pixel_padding_range_limit;

  // Modality LUT and VOI LUT modules (PS3.3 C.11.1, C.11.2).
  std::optional<double> rescale_slope;      // (0028,1053)
  std::optional<double> rescale_intercept;  // (0028,1052)
  bool has_modality_lut_sequence = false;   // (0028,3000)
  std::vector<double> window_centers;       // (0028,1050), every value that parses
  std::vector<double> window_widths;        // (0028,1051)
  std::string voi_lut_function;             // (0028,1056), trimmed, upper case

  // Pixel data: (7FE0,0010); offsets index into pixel_source().
  bool has_pixel_data = false;
  bool has_float_pixel_data = false;  // (7FE0,0008) or (7FE0,0009)
  bool encapsulated = false;          // undefined length: compressed fragments
  std::size_t pixel_offset = 0;
  std::size_t pixel_length = 0;  // defined length; for encapsulated: to the end

  bool has_frame_increment_pointer = false;  // (0028,0009)

  std::string inflated;  // the inflated dataset of a deflated file (else empty)
};

// Parses `bytes` (the whole file); `origin` names it in errors.
// Errors: corrupt_dicom (not DICOM, truncated, impossible lengths).
// With `prefix`, `bytes` may be only the start of the file: pixel data (7FE0,0010) may
// run past the end (its offsets then refer to the whole file), anything else truncated
// is still an error, and a deflated file needs all its bytes.
[[nodiscard]] core::result<header> parse_header(std::string_view bytes, std::string_view origin,
                                                bool prefix = false);

// True for the transfer syntaxes whose pixel data is stored natively (not encapsulated).
[[nodiscard]] bool is_native_syntax(std::string_view transfer_syntax_uid);

// A readable name for a transfer syntax UID ("JPEG 2000", "RLE Lossless"...), or the UID.
[[nodiscard]] std::string syntax_label(std::string_view transfer_syntax_uid);

}  // namespace ctprep::dicom
