#include "ctprep/imaging/codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <zlib.h>
#include <utility>

#include "ctprep/core/rng.hpp"
#include "imaging/codec_internal.hpp"

namespace ctprep::imaging {
namespace {

// A CT-like slice: smooth structure plus seeded noise, so every PNG filter gets used.
image_u8 slice(int width, int height, int channels, std::uint64_t seed) {
  auto image = make_image(width, height, channels);
  auto random = core::rng(seed);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const auto base = static_cast<int>(128 + 90 * std::sin(x * 0.07) * std::cos(y * 0.05));
      for (int c = 0; c < channels; ++c) {
        image.row(y)[x * channels + c] = static_cast<std::uint8_t>(
            std::clamp(base + c * 17 + static_cast<int>(random.between(-9, 9)), 0, 255));
      }
    }
  }
  return image;
}

image_u8 gray_as_rgb(const image_u8& gray) {
  auto rgb = make_image(gray.width, gray.height, 3);
  for (std::size_t i = 0; i < gray.pixels.size(); ++i) {
    for (std::size_t c = 0; c < 3; ++c) rgb.pixels[3 * i + c] = gray.pixels[i];
  }
  return rgb;
}

TEST(codec_png, the_libdeflate_decoder_agrees_with_libpng_on_every_filter_and_level) {
  for (int channels : {1, 3}) {
    const auto image = slice(97, 61, channels, 7);
    for (int level = 0; level <= 9; level += 3) {  // libpng picks filters per row and level
      const auto png = encode_png(image, level);
      ASSERT_TRUE(png);
      auto ours = detail::decode_png_8bit(*png, "slice.png");
      ASSERT_TRUE(ours && *ours) << (ours ? "" : ours.error().message);
      auto reference = detail::decode_with_opencv(*png, "slice.png");
      ASSERT_TRUE(reference);
      EXPECT_EQ((*ours)->pixels, reference->pixels) << channels << " channels, level " << level;
      EXPECT_EQ((*ours)->pixels, image.pixels);
    }
  }
}

TEST(codec_png, the_sub_filter_encoder_round_trips_through_libpng) {
  const auto gray = slice(130, 70, 1, 3);
  auto png = encode_png_fast(gray);
  ASSERT_TRUE(png);
  auto back = detail::decode_with_opencv(*png, "fast.png");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->channels, 1);
  EXPECT_EQ(back->pixels, gray.pixels);
  // A gray image written as RGB reads back with R = G = B.
  auto rgb_png = detail::encode_png_sub(gray.pixels.data(), gray.width, gray.height,
                                        static_cast<std::size_t>(gray.width), 1, true);
  ASSERT_TRUE(rgb_png);
  auto rgb = detail::decode_with_opencv(*rgb_png, "rgb.png");
  ASSERT_TRUE(rgb);
  EXPECT_EQ(rgb->pixels, gray_as_rgb(gray).pixels);
  // The same pixels give the same bytes.
  EXPECT_EQ(*encode_png_fast(gray), *png);
  // Our decoder's vector SUB (16 bytes at a time, then the 2-byte tail of each row).
  for (const int width : {130, 16, 5}) {
    const auto narrow = slice(width, 9, 1, 5);
    auto ours = detail::decode_png_8bit(*encode_png_fast(narrow), "sub.png");
    ASSERT_TRUE(ours && *ours);
    EXPECT_EQ((*ours)->pixels, narrow.pixels) << width;
  }
}

// A gray PNG whose every row uses one filter type (W3C PNG section 9.2), written here
// byte by byte so the decoder meets rows libpng's adaptive choice may never make.
std::string png_with_filter(const image_u8& gray, std::uint8_t filter) {
  const auto w = static_cast<std::size_t>(gray.width);
  std::string raw;
  for (int y = 0; y < gray.height; ++y) {
    raw.push_back(static_cast<char>(filter));
    for (std::size_t x = 0; x < w; ++x) {
      const int left = x > 0 ? gray.row(y)[x - 1] : 0, up = y > 0 ? gray.row(y - 1)[x] : 0;
      const int predicted = filter == 3 ? (left + up) / 2 : filter == 2 ? up : 0;
      raw.push_back(static_cast<char>(gray.row(y)[x] - predicted));
    }
  }
  std::string packed(compressBound(static_cast<uLong>(raw.size())), '\0');
  auto packed_size = static_cast<uLongf>(packed.size());
  compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
            reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), 6);
  packed.resize(packed_size);
  std::string png("\x89PNG\r\n\x1a\n", 8);
  const auto chunk = [&](std::string_view type, std::string_view data) {
    for (int k = 3; k >= 0; --k) png.push_back(static_cast<char>(data.size() >> (8 * k)));
    const std::string body = std::string(type) + std::string(data);
    png += body;
    const auto crc =
        crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
    for (int k = 3; k >= 0; --k) png.push_back(static_cast<char>(crc >> (8 * k)));
  };
  std::string header;
  for (const auto v : {gray.width, gray.height}) {
    for (int k = 3; k >= 0; --k) header.push_back(static_cast<char>(v >> (8 * k)));
  }
  header += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit gray
  chunk("IHDR", header);
  chunk("IDAT", packed);
  chunk("IEND", "");
  return png;
}

TEST(codec_png, undoes_runs_of_average_rows_of_any_length_as_libpng_does) {
  // Heights 1 to 9 make every run length 1-4 and its remainder; width 3 is narrower than
  // the four rows undone together.
  for (const int width : {37, 3}) {
    for (int height = 1; height <= 9; ++height) {
      const auto gray = slice(width, height, 1, static_cast<std::uint64_t>(height));
      const auto png = png_with_filter(gray, 3);
      auto ours = detail::decode_png_8bit(png, "average.png");
      ASSERT_TRUE(ours && *ours) << (ours ? "" : ours.error().message);
      EXPECT_EQ((*ours)->pixels, gray.pixels) << width << "x" << height;
      auto reference = detail::decode_with_opencv(png, "average.png");
      ASSERT_TRUE(reference);
      EXPECT_EQ(reference->pixels, gray.pixels) << width << "x" << height;
    }
  }
}

TEST(codec_png, a_16_bit_png_goes_to_the_opencv_path) {
  image_u16 deep{4, 2, {0, 257, 514, 65535, 1000, 2000, 3000, 4000}};
  auto png = encode_png(deep);
  ASSERT_TRUE(png);
  auto fast = detail::decode_png_8bit(*png, "deep.png");
  ASSERT_TRUE(fast);
  EXPECT_FALSE(*fast);
  auto decoded = decode_image(*png, "deep.png");
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->pixels[1], 1);
  EXPECT_EQ(decoded->pixels[3], 255);
}

TEST(codec_png, corrupt_and_truncated_files_are_named_errors) {
  const auto png = *encode_png_fast(slice(64, 64, 1, 1));
  auto flipped = png;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x40);
  auto crc = decode_image(flipped, "flipped.png");
  ASSERT_FALSE(crc);
  EXPECT_NE(crc.error().message.find("'flipped.png' is not a whole PNG: chunk 'IDAT'"),
            std::string::npos)
      << crc.error().message;
  EXPECT_NE(crc.error().message.find("fails its CRC"), std::string::npos);
  auto cut = decode_image(png.substr(0, png.size() - 40), "cut.png");
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message.find("runs past the end of the file"), std::string::npos)
      << cut.error().message;
  // An unknown critical chunk (upper-case first letter) must not be skipped.
  const std::string chunk("\0\0\0\0ZZZZ", 8);
  std::string critical = png.substr(0, 33) + chunk;
  const auto zzzz_crc = [](std::string_view typed) {  // CRC-32 of "ZZZZ", bitwise
    std::uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : typed) {
      c ^= b;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
  }(std::string_view(chunk).substr(4));
  for (int k = 3; k >= 0; --k) critical.push_back(static_cast<char>(zzzz_crc >> (8 * k)));
  critical += png.substr(33);
  auto unknown = decode_image(critical, "critical.png");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown critical chunk 'ZZZZ' at byte 33"),
            std::string::npos)
      << unknown.error().message;
  auto no_end = decode_image(png.substr(0, png.size() - 12), "no_end.png");
  ASSERT_FALSE(no_end);
  EXPECT_NE(no_end.error().message.find("no IEND"), std::string::npos) << no_end.error().message;
}

TEST(codec_jpeg, gray_written_as_colour_is_byte_identical_to_opencvs_rgb_encoding) {
  // 131x67 is not a whole number of 16-px MCUs (scanlines, libjpeg pads the edges); 128x64
  // is (raw planes); a stride wider than the row is what a cv::Mat region has.
  struct shape {
    int width, height;
    std::size_t stride;
  };
  for (const shape s : {shape{131, 67, 131}, shape{128, 64, 128}, shape{128, 64, 160}}) {
    const auto gray = slice(s.width, s.height, 1, 11);
    std::vector<std::uint8_t> strided(s.stride * static_cast<std::size_t>(s.height), 77);
    for (int y = 0; y < s.height; ++y) {
      std::copy_n(gray.row(y), s.width, strided.data() + static_cast<std::size_t>(y) * s.stride);
    }
    for (int quality : {75, 95}) {
      auto ours =
          detail::encode_jpeg_gray(strided.data(), s.width, s.height, s.stride, quality, true);
      auto opencv = encode_jpeg(gray_as_rgb(gray), quality);
      ASSERT_TRUE(ours && opencv);
      EXPECT_EQ(*ours, *opencv) << s.width << "x" << s.height << ", quality " << quality;
      auto ours_gray =
          detail::encode_jpeg_gray(strided.data(), s.width, s.height, s.stride, quality, false);
      auto opencv_gray = encode_jpeg(gray, quality);
      ASSERT_TRUE(ours_gray && opencv_gray);
      EXPECT_EQ(*ours_gray, *opencv_gray)
          << s.width << "x" << s.height << " gray, quality " << quality;
    }
  }
}

TEST(codec_jpeg, the_gray_decode_is_the_colour_decode_of_gray_content_and_declines_colour) {
  // 80x48 is read as raw planes, 81x50 by scanlines: both must agree with OpenCV.
  for (const auto& [width, height] : {std::pair{80, 48}, std::pair{81, 50}}) {
    const auto gray = slice(width, height, 1, 5);
    for (bool as_colour : {true, false}) {
      const auto jpeg = *encode_jpeg(as_colour ? gray_as_rgb(gray) : gray, 95);
      auto y = detail::decode_jpeg_gray(jpeg, "gray.jpg");
      ASSERT_TRUE(y && *y) << width << "x" << height;
      EXPECT_EQ((*y)->width, width);
      EXPECT_EQ((*y)->height, height);
      auto reference = decode_image(jpeg, "gray.jpg");
      ASSERT_TRUE(reference);
      if (!as_colour) {
        EXPECT_EQ((*y)->pixels, reference->pixels) << width << "x" << height;
        continue;
      }
      ASSERT_EQ(reference->channels, 3);
      std::vector<std::uint8_t> red;
      for (std::size_t i = 0; i < reference->pixels.size(); i += 3) {
        red.push_back(reference->pixels[i]);
      }
      EXPECT_EQ((*y)->pixels, red) << width << "x" << height;
      EXPECT_EQ(reference->pixels, gray_as_rgb(**y).pixels);  // R = G = B everywhere
    }
    auto coloured =
        detail::decode_jpeg_gray(*encode_jpeg(slice(width, height, 3, 5), 95), "colour.jpg");
    ASSERT_TRUE(coloured);
    EXPECT_FALSE(*coloured) << width << "x" << height;
    // Gray but for a red patch in the last rows: every band's chroma is looked at.
    auto mostly_gray = gray_as_rgb(gray);
    for (int y = height - 8; y < height; ++y) {
      for (int x = width - 8; x < width; ++x) {
        auto* p = mostly_gray.row(y) + 3 * x;
        p[0] = 250, p[1] = 20, p[2] = 20;
      }
    }
    auto patch = detail::decode_jpeg_gray(*encode_jpeg(mostly_gray, 95), "patch.jpg");
    ASSERT_TRUE(patch);
    EXPECT_FALSE(*patch) << width << "x" << height;
  }
}

TEST(codec_verify, a_truncated_jpeg_is_an_error_where_opencv_fills_grey) {
  const auto jpeg = *encode_jpeg(slice(96, 96, 3, 2), 95);
  const auto cut = jpeg.substr(0, jpeg.size() * 2 / 3);
  EXPECT_TRUE(decode_image(cut, "cut.jpg"));  // the lenient decoder this check replaces
  auto checked = verify_image(cut, "cut.jpg");
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().message.find("'cut.jpg' is truncated"), std::string::npos)
      << checked.error().message;
}

TEST(codec_verify, a_jpeg_header_claiming_a_giant_image_is_refused_before_allocating) {
  auto jpeg = *encode_jpeg(make_image(16, 16, 1, 40), 95);  // flat: the costly check would run
  const auto sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  for (std::size_t k : {5u, 7u}) jpeg[sof + k] = '\xFF';  // 65500 x 65500, libjpeg's most
  for (std::size_t k : {6u, 8u}) jpeg[sof + k] = '\xDC';
  auto checked = verify_image(jpeg, "giant.jpg");
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().message.find("65500x65500 pixels is more than"), std::string::npos)
      << checked.error().message;
  EXPECT_FALSE(detail::decode_jpeg_gray(jpeg, "giant.jpg"));
}

TEST(codec_verify, equal_content_gives_equal_hashes_and_blank_slices_are_constant) {
  const auto a = slice(64, 64, 1, 1), b = slice(64, 64, 1, 2);
  for (bool jpeg : {false, true}) {
    const auto encode = [&](const image_u8& i) {
      return jpeg ? *encode_jpeg(i, 95) : *encode_png(i, 6);
    };
    auto da = verify_image(encode(a), "a"), da2 = verify_image(encode(a), "a2"),
         db = verify_image(encode(b), "b"),
         blank = verify_image(encode(make_image(64, 48, 1, 40)), "blank");
    ASSERT_TRUE(da && da2 && db && blank);
    EXPECT_EQ(da->content_hash, da2->content_hash);
    EXPECT_NE(da->content_hash, db->content_hash);
    EXPECT_FALSE(da->constant);
    EXPECT_TRUE(blank->constant);
    EXPECT_EQ(blank->width, 64);
    EXPECT_EQ(blank->height, 48);
    EXPECT_EQ(blank->channels, 1);
  }
  // PNG hashes are of pixels: the same slice at another compression level hashes equal.
  EXPECT_EQ(verify_image(*encode_png(a, 1), "l1")->content_hash,
            verify_image(*encode_png_fast(a), "fast")->content_hash);
}

}  // namespace
}  // namespace ctprep::imaging
