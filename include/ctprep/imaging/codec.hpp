// 8-bit images in memory and their PNG/JPEG encodings. PNG bytes are deterministic for
// the same pixels and settings (no timestamps or text chunks).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"

namespace ctprep::imaging {

struct image_u8 {
  int width = 0;
  int height = 0;
  int channels = 1;                  // 1 gray, 3 RGB (in R, G, B order)
  std::vector<std::uint8_t> pixels;  // row-major, interleaved channels
  [[nodiscard]] std::uint8_t* row(int y) {
    return pixels.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(width * channels);
  }
  [[nodiscard]] const std::uint8_t* row(int y) const {
    return pixels.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(width * channels);
  }
};

// 16-bit gray (e.g. CT values + 1024 for users who window later).
struct image_u16 {
  int width = 0;
  int height = 0;
  std::vector<std::uint16_t> pixels;  // row-major
};

[[nodiscard]] image_u8 make_image(int width, int height, int channels, std::uint8_t fill = 0);

// compression 0..9 (zlib level); 1 is fast with small files for CT slices.
[[nodiscard]] core::result<std::string> encode_png(const image_u8& image, int compression = 1);
[[nodiscard]] core::result<std::string> encode_png(const image_u16& image, int compression = 1);
// The SUB filter on every row and one deflate stream from ISA-L's igzip at level 1:
// about 4x faster than zlib's level 1 with Z_RLE (OpenCV's default) on CT slices, whose
// rows are smooth runs, for files about 6% larger. What `convert` writes.
[[nodiscard]] core::result<std::string> encode_png_fast(const image_u8& image);
[[nodiscard]] core::result<std::string> encode_jpeg(const image_u8& image, int quality = 95);

// Decodes a whole PNG or JPEG (every pixel, so a truncated file fails); gray stays
// gray, colour comes back RGB. `origin` names the file in errors.
[[nodiscard]] core::result<image_u8> decode_image(std::string_view bytes, std::string_view origin);

// What checking every byte of an image file that can be wrong found.
struct image_digest {
  int width = 0;
  int height = 0;
  int channels = 0;                // 1 gray, 3 colour (alpha not counted)
  std::uint64_t content_hash = 0;  // equal for equal content of the same format
  bool constant = false;           // every pixel the same (a blank slice)
};

// Checks a whole PNG or JPEG as a full decode would, and hashes its content. PNG: every
// chunk's CRC, the inflated data (with its Adler-32) and every row's filter; the hash is
// of the decoded pixels. JPEG: every Huffman code of every block is decoded (baseline
// files by our own entropy scan, which also refuses missing or extra data; others by
// libjpeg at 1/8 scale, its warnings, e.g. a premature end, being errors, unlike
// OpenCV's decoder, which fills the missing part with grey), as the full inverse DCT
// cannot fail; the hash is of the tables and entropy-coded data without APPn/COM
// metadata, which fix the pixels.
// `origin` names the file in errors.
[[nodiscard]] core::result<image_digest> verify_image(std::string_view bytes,
                                                      std::string_view origin);

}  // namespace ctprep::imaging
