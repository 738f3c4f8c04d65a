// Direct libjpeg-turbo and libdeflate paths of the imaging module, for the hot loops
// (validate's full decode of every file, augmentation's decode/encode). Internal: the
// public API is codec.hpp; OpenCV stays the fallback for every case these do not cover.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ctprep/core/error.hpp"
#include "ctprep/imaging/codec.hpp"
#include "imaging/jpeg_scan.hpp"

namespace ctprep::imaging::detail {

// OpenCV's decoder (libpng, libjpeg) for every PNG and JPEG: decode_image's fallback.
[[nodiscard]] core::result<image_u8> decode_with_opencv(std::string_view bytes,
                                                        std::string_view origin);

// PNG of 8 bits per sample, gray/gray+alpha/RGB/RGBA, not interlaced: every chunk's CRC
// checked, the zlib stream inflated (with its Adler-32) by libdeflate and unfiltered.
// Returns the pixels as decode_image would (gray stays gray, alpha dropped, RGB order);
// std::nullopt for a PNG this path does not cover (palette, 16-bit, interlaced), which
// the caller hands to OpenCV. A corrupt or truncated file is an error naming `origin`.
[[nodiscard]] core::result<std::optional<image_u8>> decode_png_8bit(std::string_view bytes,
                                                                    std::string_view origin);

// Checks a whole JPEG and hashes it. A baseline file (sequential Huffman, 8 bits, one
// scan; gray or YCbCr with 1x1 chroma: what cameras, OpenCV and Roboflow write) has its
// entropy-coded data checked by our own scan (jpeg_scan.hpp: every Huffman code of every
// block decoded, nothing missing or extra, restart markers in order); any other file is
// decoded by libjpeg at 1/8 scale (all the Huffman data, each block's inverse DCT
// reduced to its DC term; the full inverse DCT and colour conversion cannot fail on
// decoded coefficients), where any libjpeg warning (premature end, corrupt data) is an
// error. The digest's hash is of the tables and entropy-coded data (APPn/COM metadata
// left out): two files with equal hashes decode to equal pixels.
[[nodiscard]] core::result<image_digest> verify_jpeg(std::string_view bytes,
                                                     std::string_view origin);

// verify_jpeg's libjpeg path, for every JPEG (the fuzz target compares the two).
[[nodiscard]] core::result<image_digest> verify_jpeg_with_libjpeg(std::string_view bytes,
                                                                  std::string_view origin);

// Our entropy scan of a JPEG, after libjpeg's header read; unsupported for a file it
// does not cover or whose header libjpeg refuses.
[[nodiscard]] scan_outcome scan_jpeg(std::string_view bytes);

// The gray pixels of a JPEG that is gray: one component, or YCbCr whose chroma is 128
// everywhere (libjpeg's YCbCr->RGB then gives R = G = B = Y exactly, so this is what a
// full colour decode would give in each channel). std::nullopt for a colour JPEG.
[[nodiscard]] core::result<std::optional<image_u8>> decode_jpeg_gray(std::string_view bytes,
                                                                     std::string_view origin);

// A gray image as a JPEG. `as_colour`: three YCbCr components with neutral chroma, the
// same bytes OpenCV writes for the image repeated in B, G and R (libjpeg's RGB->YCbCr
// maps R = G = B = g to Y = g, Cb = Cr = 128 exactly) without the colour conversion;
// otherwise one gray component. 4:2:0, baseline quantisation tables for `quality`.
// `pixels`: `height` rows of `width` bytes, `stride` bytes apart.
[[nodiscard]] core::result<std::string> encode_jpeg_gray(const std::uint8_t* pixels, int width,
                                                         int height, std::size_t stride,
                                                         int quality, bool as_colour);

// An 8-bit gray or RGB image as PNG: the SUB filter on every row and one IDAT chunk
// (igzip level 1 from ISA-L, without libpng). `pixels`: `height`
// rows of `width * channels` bytes, `stride` bytes apart; `channels` 1 or 3. `gray_as_rgb` writes a
// gray image (channels 1) as RGB with R = G = B. No ancillary chunks, so the bytes depend on the
// pixels only.
[[nodiscard]] core::result<std::string> encode_png_sub(const std::uint8_t* pixels, int width,
                                                       int height, std::size_t stride, int channels,
                                                       bool gray_as_rgb);

}  // namespace ctprep::imaging::detail
