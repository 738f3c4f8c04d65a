// The common PNG (8 bits per sample, not interlaced, no palette: what convert,
// augmentation and Roboflow write) decoded with libdeflate, whose inflate is 2-3x
// zlib's: the PNG half of validate's "decode every file" and of augmentation's input.
// PNG structure as in the W3C PNG specification (2nd ed.), sections 5 (chunks), 9
// (filters) and 11.2.2 (IHDR).
#include <emmintrin.h>
#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <libdeflate.h>

#include <fmt/format.h>

#include "imaging/codec_internal.hpp"

namespace ctprep::imaging::detail {
namespace {

constexpr std::string_view png_signature{"\x89PNG\r\n\x1a\n", 8};

std::uint32_t big_endian(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint32_t>(u[0]) << 24 | static_cast<std::uint32_t>(u[1]) << 16 |
         static_cast<std::uint32_t>(u[2]) << 8 | static_cast<std::uint32_t>(u[3]);
}

// Samples per pixel of the colour types this path decodes (0 for the others).
int samples_of(int colour_type) {
  switch (colour_type) {
    case 0:
      return 1;  // gray
    case 2:
      return 3;  // RGB
    case 4:
      return 2;  // gray + alpha
    case 6:
      return 4;  // RGBA
    default:
      return 0;
  }
}

struct decompressor_deleter {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

libdeflate_decompressor* thread_decompressor() {
  thread_local std::unique_ptr<libdeflate_decompressor, decompressor_deleter> d{
      libdeflate_alloc_decompressor()};
  return d.get();
}

// Section 9.4, written without branches (p - a = b - c, p - b = a - c, p - c = a + b - 2c)
// so the compiler emits conditional moves: the rows of a slice are a serial chain.
int paeth(int a, int b, int c) {
  const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
  const int near = pa <= pb ? a : b, distance = pa <= pb ? pa : pb;
  return distance <= pc ? near : c;
}

// SUB on a gray row is a running sum of its bytes (mod 256): 16 at a time, each vector
// summed in four shift-and-add steps, then the previous vector's last byte added to all.
void unfilter_sub_gray(std::uint8_t* x, std::size_t n) {
  __m128i carry = _mm_setzero_si128();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    v = _mm_add_epi8(v, _mm_slli_si128(v, 1));
    v = _mm_add_epi8(v, _mm_slli_si128(v, 2));
    v = _mm_add_epi8(v, _mm_slli_si128(v, 4));
    v = _mm_add_epi8(v, _mm_slli_si128(v, 8));
    v = _mm_add_epi8(v, carry);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(x + i), v);
    // Byte 15 to every lane: bytes 8-15 doubled into words, word 7 spread, dword 3 spread.
    carry = _mm_shuffle_epi32(_mm_shufflehi_epi16(_mm_unpackhi_epi8(v, v), 0xFF), 0xFF);
  }
  auto left = static_cast<std::uint8_t>(_mm_cvtsi128_si32(carry));
  for (; i < n; ++i) x[i] = left = static_cast<std::uint8_t>(x[i] + left);
}

// AVERAGE on gray rows is serial along a row (each byte needs its left neighbour's
// result, three dependent operations a byte) but a row only needs the row above up to
// the same column: `n` consecutive AVERAGE rows (`first` and the n - 1 after it, each
// 1 + stride bytes on) are undone together, row r one column behind row r - 1, so their
// chains overlap.
constexpr std::size_t max_average_rows = 4;

void unfilter_average_gray(std::uint8_t* first, std::size_t n, std::size_t stride,
                           const std::uint8_t* prior) {
  std::array<std::uint8_t*, max_average_rows> row{};
  std::array<const std::uint8_t*, max_average_rows> above{};
  for (std::size_t r = 0; r < n; ++r) {
    row[r] = first + r * (stride + 1);
    above[r] = r == 0 ? prior : row[r - 1];
  }
  std::array<unsigned, max_average_rows> left{};
  const auto step = [&](std::size_t r, std::size_t i) {
    left[r] = static_cast<std::uint8_t>(row[r][i] + ((left[r] + above[r][i]) >> 1));
    row[r][i] = static_cast<std::uint8_t>(left[r]);
  };
  if (n < max_average_rows || stride < max_average_rows) {
    for (std::size_t r = 0; r < n; ++r) {
      for (std::size_t i = 0; i < stride; ++i) step(r, i);
    }
    return;
  }
  // The staircase's start, its body (all four rows each column), then its end.
  for (std::size_t i = 0; i + 1 < max_average_rows; ++i) {
    for (std::size_t r = 0; r <= i; ++r) step(r, i - r);
  }
  for (std::size_t i = max_average_rows - 1; i < stride; ++i) {
    step(0, i);
    step(1, i - 1);
    step(2, i - 2);
    step(3, i - 3);
  }
  for (std::size_t i = stride; i < stride + max_average_rows - 1; ++i) {
    for (std::size_t r = i - stride + 1; r < max_average_rows; ++r) step(r, i - r);
  }
}

// Section 9: undoes each row's filter in place; `data` holds rows of 1 + stride bytes.
// The first row's "prior" row is zeros. For gray (bpp 1) the left neighbour is carried
// in a register: re-reading the byte just stored would stall on store forwarding at
// every byte of the serial chain.
bool unfilter(std::uint8_t* data, std::size_t rows, std::size_t stride, std::size_t bpp,
              std::size_t& bad_row) {
  thread_local std::vector<std::uint8_t> zeros;
  zeros.assign(stride, 0);
  const std::uint8_t* prior = zeros.data();
  for (std::size_t y = 0; y < rows; ++y) {
    std::uint8_t* row = data + y * (stride + 1);
    const std::uint8_t filter = row[0];
    std::uint8_t* x = row + 1;
    switch (filter) {
      case 0:
        break;
      case 1:
        if (bpp == 1) {
          unfilter_sub_gray(x, stride);
        } else {
          for (std::size_t i = bpp; i < stride; ++i)
            x[i] = static_cast<std::uint8_t>(x[i] + x[i - bpp]);
        }
        break;
      case 2:
        for (std::size_t i = 0; i < stride; ++i) x[i] = static_cast<std::uint8_t>(x[i] + prior[i]);
        break;
      case 3:
        if (bpp == 1) {
          // This row and the AVERAGE rows right below it, together.
          std::size_t n = 1;
          while (n < max_average_rows && y + n < rows && data[(y + n) * (stride + 1)] == 3) ++n;
          unfilter_average_gray(x, n, stride, prior);
          y += n - 1;
          x += (n - 1) * (stride + 1);
        } else {
          for (std::size_t i = 0; i < stride; ++i) {
            const unsigned left = i >= bpp ? x[i - bpp] : 0u;
            x[i] = static_cast<std::uint8_t>(x[i] + ((left + prior[i]) >> 1));
          }
        }
        break;
      case 4:
        if (bpp == 1) {
          int left = 0, corner = 0;
          for (std::size_t i = 0; i < stride; ++i) {
            const int up = prior[i];
            left = static_cast<std::uint8_t>(x[i] + paeth(left, up, corner));
            x[i] = static_cast<std::uint8_t>(left);
            corner = up;
          }
        } else {
          for (std::size_t i = 0; i < stride; ++i) {
            const int left = i >= bpp ? x[i - bpp] : 0, corner = i >= bpp ? prior[i - bpp] : 0;
            x[i] = static_cast<std::uint8_t>(x[i] + paeth(left, prior[i], corner));
          }
        }
        break;
      default:
        bad_row = y;
        return false;
    }
    prior = x;
  }
  return true;
}

}  // namespace

core::result<std::optional<image_u8>> decode_png_8bit(std::string_view bytes,
                                                      std::string_view origin) {
  const auto corrupt = [&](std::string_view why) {
    return core::fail(core::error_code::bad_image,
                      fmt::format("'{}' is not a whole PNG: {}", origin, why));
  };
  if (bytes.substr(0, 8) != png_signature) return corrupt("no PNG signature");
  std::size_t at = 8;
  std::uint32_t width = 0, height = 0;
  int samples = 0;
  bool seen_header = false, seen_end = false;
  thread_local std::vector<std::uint8_t> compressed;
  compressed.clear();
  while (!seen_end) {
    if (bytes.size() - at < 12)
      return corrupt(fmt::format("truncated at byte {} (no IEND chunk)", at));
    const std::uint32_t length = big_endian(bytes.data() + at);
    const std::string_view type = bytes.substr(at + 4, 4);
    if (length > bytes.size() - at - 12) {
      return corrupt(fmt::format("chunk '{}' at byte {} runs past the end of the file", type, at));
    }
    const char* data = bytes.data() + at + 8;
    const std::uint32_t crc = big_endian(data + length);
    if (static_cast<std::uint32_t>(libdeflate_crc32(0, bytes.data() + at + 4, length + 4)) != crc) {
      return corrupt(fmt::format("chunk '{}' at byte {} fails its CRC", type, at));
    }
    if (!seen_header) {
      if (type != "IHDR" || length != 13) return corrupt("the first chunk is not IHDR");
      width = big_endian(data);
      height = big_endian(data + 4);
      const int depth = static_cast<unsigned char>(data[8]);
      samples = samples_of(static_cast<unsigned char>(data[9]));
      const bool plain = data[10] == 0 && data[11] == 0 && data[12] == 0;
      if (width == 0 || height == 0 || width > (1u << 24) || height > (1u << 24)) {
        return corrupt(fmt::format("IHDR size {}x{}", width, height));
      }
      if (depth != 8 || samples == 0 || !plain) return std::optional<image_u8>{};  // OpenCV's case
      seen_header = true;
    } else if (type == "IDAT") {
      compressed.insert(compressed.end(), data, data + length);
    } else if (type == "IEND") {
      seen_end = true;
    } else if (type == "PLTE") {
      return std::optional<image_u8>{};
    } else if (type[0] >= 'A' && type[0] <= 'Z') {  // section 5.4: must not be ignored
      return corrupt(fmt::format("unknown critical chunk '{}' at byte {}", type, at));
    }
    at += 12 + length;
  }
  const std::size_t stride = static_cast<std::size_t>(width) * static_cast<std::size_t>(samples);
  const std::size_t expected = static_cast<std::size_t>(height) * (stride + 1);
  // Deflate cannot expand data more than 1032 times: less IDAT than that means the
  // image data was cut (checked before allocating, so a forged IHDR costs nothing).
  if (expected / 1032 > compressed.size() + 1) {
    return corrupt(fmt::format("its image data ({} bytes) cannot hold {}x{} pixels",
                               compressed.size(), width, height));
  }
  thread_local std::vector<std::uint8_t> raw;
  raw.resize(expected);
  std::size_t produced = 0;
  const auto status = libdeflate_zlib_decompress(
      thread_decompressor(), compressed.data(), compressed.size(), raw.data(), expected, &produced);
  if (status == LIBDEFLATE_INSUFFICIENT_SPACE) {
    return std::optional<image_u8>{};  // more data than the image: libpng's call (a warning)
  }
  if (status != LIBDEFLATE_SUCCESS) return corrupt("its image data (IDAT) does not inflate");
  if (produced != expected) {
    return corrupt(fmt::format("its image data holds {} of {} bytes", produced, expected));
  }
  std::size_t bad_row = 0;
  if (!unfilter(raw.data(), height, stride, static_cast<std::size_t>(samples), bad_row)) {
    return corrupt(fmt::format("row {} has filter type {}", bad_row, raw[bad_row * (stride + 1)]));
  }
  const int channels = samples >= 3 ? 3 : 1;
  image_u8 image = make_image(static_cast<int>(width), static_cast<int>(height), channels);
  for (std::uint32_t y = 0; y < height; ++y) {
    const std::uint8_t* in = raw.data() + y * (stride + 1) + 1;
    std::uint8_t* out = image.row(static_cast<int>(y));
    if (samples == channels) {
      std::memcpy(out, in, stride);
      continue;
    }
    for (std::uint32_t x = 0; x < width; ++x) {  // drop alpha, as decode_image does
      for (int k = 0; k < channels; ++k) out[x * channels + k] = in[x * samples + k];
    }
  }
  return std::optional<image_u8>{std::move(image)};
}

}  // namespace ctprep::imaging::detail
