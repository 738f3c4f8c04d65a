#include "ctprep/imaging/header.hpp"

#include <gtest/gtest.h>

#include "ctprep/imaging/codec.hpp"
#include "support/testing.hpp"

namespace ctprep::imaging {
namespace {

TEST(image_header, reads_png_and_jpeg_sizes_without_decoding) {
  testing::temp_dir dir;
  testing::write_test_image(dir / "a.png", 640, 480);
  testing::write_test_image(dir / "b.jpg", 33, 517);
  auto png = read_image_header(dir / "a.png");
  ASSERT_TRUE(png) << png.error().message;
  EXPECT_EQ(png->format, image_format::png);
  EXPECT_EQ(png->width, 640);
  EXPECT_EQ(png->height, 480);
  EXPECT_EQ(png->channels, 1);
  auto jpg = read_image_header(dir / "b.jpg");
  ASSERT_TRUE(jpg) << jpg.error().message;
  EXPECT_EQ(jpg->format, image_format::jpeg);
  EXPECT_EQ(jpg->width, 33);
  EXPECT_EQ(jpg->height, 517);
}

TEST(image_header, reads_colour_images) {
  auto rgb = make_image(20, 10, 3, 128);
  auto bytes = encode_png(rgb);
  ASSERT_TRUE(bytes);
  auto h = parse_image_header(*bytes, "rgb.png");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->channels, 3);
  EXPECT_EQ(h->width, 20);
}

TEST(image_header, a_jpeg_with_a_large_leading_segment_is_still_read) {
  // A 60 KiB APP1 segment before the frame header (EXIF blocks can be this large).
  auto bytes = encode_jpeg(make_image(12, 34, 1, 9));
  ASSERT_TRUE(bytes);
  std::string big = bytes->substr(0, 2);
  big += "\xFF\xE1";
  const std::size_t length = 60000;
  big.push_back(static_cast<char>(length >> 8));
  big.push_back(static_cast<char>(length & 0xFF));
  big.append(length - 2, 'x');
  big += bytes->substr(2);
  testing::temp_dir dir;
  testing::write_text(dir / "exif.jpg", big);
  auto h = read_image_header(dir / "exif.jpg");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->width, 12);
  EXPECT_EQ(h->height, 34);
}

TEST(image_header, rejects_what_is_not_a_png_or_jpeg_and_names_it) {
  auto r = parse_image_header("GIF89a....", "x.gif");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::error_code::bad_image);
  EXPECT_EQ(r.error().message, "bad_image: 'x.gif': not a PNG or JPEG file");
  auto truncated = parse_image_header(std::string_view("\x89PNG\r\n\x1a\n\0\0", 10), "t.png");
  ASSERT_FALSE(truncated);
  EXPECT_NE(truncated.error().message.find("'t.png'"), std::string::npos);
  auto missing = read_image_header("/nonexistent/x.png");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::error_code::not_found);
}

TEST(image_codec, decode_reverses_encode_for_png_and_fails_on_truncation) {
  auto image = make_image(17, 9, 1);
  for (std::size_t i = 0; i < image.pixels.size(); ++i)
    image.pixels[i] = static_cast<std::uint8_t>(i * 7);
  auto bytes = encode_png(image);
  ASSERT_TRUE(bytes);
  auto back = decode_image(*bytes, "a.png");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->pixels, image.pixels);
  EXPECT_EQ(back->width, 17);
  auto cut = decode_image(std::string_view(*bytes).substr(0, bytes->size() / 2), "cut.png");
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, core::error_code::bad_image);
  EXPECT_NE(cut.error().message.find("'cut.png'"), std::string::npos);
}

TEST(image_codec, png_bytes_are_deterministic) {
  auto image = make_image(64, 64, 1, 77);
  EXPECT_EQ(*encode_png(image), *encode_png(image));
}

}  // namespace
}  // namespace ctprep::imaging
