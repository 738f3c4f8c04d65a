#include "imaging/jpeg_scan.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// jpeglib.h needs size_t and FILE declared before it.
#include <jpeglib.h>

#include "ctprep/core/rng.hpp"
#include "ctprep/imaging/codec.hpp"
#include "imaging/codec_internal.hpp"

namespace ctprep::imaging {
namespace {

struct jpeg_options {
  int components = 3;          // 1 gray, 3 YCbCr
  int luma_h = 2, luma_v = 2;  // sampling of Y (chroma 1x1)
  int restart_interval = 0;    // MCUs
  bool progressive = false;
  bool optimize = false;  // Huffman tables made for the image
};

// A CT-like picture (smooth structure plus seeded noise), `flat` for one grey level.
std::vector<std::uint8_t> picture(int width, int height, int channels, bool flat) {
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(width * height * channels));
  auto random = core::rng(11);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const int base = flat ? 77
                            : static_cast<int>(120 + 80 * std::sin(x * 0.09) * std::cos(y * 0.07)) +
                                  static_cast<int>(random.between(-12, 12));
      for (int c = 0; c < channels; ++c) {
        pixels[static_cast<std::size_t>((y * width + x) * channels + c)] =
            static_cast<std::uint8_t>(std::clamp(base + (flat ? 0 : 9 * c), 0, 255));
      }
    }
  }
  return pixels;
}

// libjpeg's encoder with the layout asked for (libjpeg's own errors end the test run).
std::string encode(int width, int height, const jpeg_options& options, bool flat = false) {
  const auto pixels = picture(width, height, options.components, flat);
  jpeg_compress_struct info{};
  jpeg_error_mgr errors{};
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = static_cast<JDIMENSION>(width);
  info.image_height = static_cast<JDIMENSION>(height);
  info.input_components = options.components;
  info.in_color_space = options.components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, 95, TRUE);
  info.restart_interval = static_cast<unsigned>(options.restart_interval);
  info.optimize_coding = options.optimize ? TRUE : FALSE;
  if (options.components == 3) {
    info.comp_info[0].h_samp_factor = options.luma_h;
    info.comp_info[0].v_samp_factor = options.luma_v;
  }
  if (options.progressive) jpeg_simple_progression(&info);
  jpeg_start_compress(&info, TRUE);
  const auto stride = static_cast<std::size_t>(width * options.components);
  while (info.next_scanline < info.image_height) {
    auto* row = const_cast<JSAMPROW>(pixels.data() + info.next_scanline * stride);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::string out(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  return out;
}

// Where the entropy-coded data starts: after the SOS segment.
std::size_t scan_start(const std::string& jpeg) {
  const auto sos = jpeg.find("\xFF\xDA");
  const auto length = static_cast<std::size_t>(static_cast<unsigned char>(jpeg[sos + 2]) << 8 |
                                               static_cast<unsigned char>(jpeg[sos + 3]));
  return sos + 2 + length;
}

TEST(jpeg_scan, accepts_every_baseline_layout_libjpeg_writes_as_libjpeg_does) {
  struct layout_case {
    jpeg_options options;
    int width, height;
  };
  const std::vector<layout_case> cases = {
      {{1, 1, 1, 0, false, false}, 97, 61}, {{1, 1, 1, 5, false, false}, 97, 61},
      {{3, 2, 2, 0, false, false}, 97, 61}, {{3, 2, 2, 3, false, false}, 97, 61},
      {{3, 2, 1, 0, false, false}, 64, 33}, {{3, 1, 2, 1, false, true}, 33, 64},
      {{3, 1, 1, 0, false, true}, 50, 50},  {{3, 2, 2, 8, false, true}, 130, 70},
      {{1, 1, 1, 1, false, false}, 8, 8},
  };
  for (const auto& c : cases) {
    const auto jpeg = encode(c.width, c.height, c.options);
    const auto label = ::testing::PrintToString(
        std::vector<int>{c.options.components, c.options.luma_h, c.options.luma_v,
                         c.options.restart_interval, c.width, c.height});
    const auto scanned = detail::scan_jpeg(jpeg);
    EXPECT_EQ(scanned.verdict, detail::scan_verdict::whole) << label << ": " << scanned.problem;
    EXPECT_FALSE(scanned.constant) << label;
    auto ours = verify_image(jpeg, "case.jpg");
    auto libjpeg = detail::verify_jpeg_with_libjpeg(jpeg, "case.jpg");
    ASSERT_TRUE(ours && libjpeg) << label;
    EXPECT_EQ(ours->width, c.width);
    EXPECT_EQ(ours->height, c.height);
    EXPECT_EQ(ours->channels, c.options.components);
    EXPECT_EQ(ours->content_hash, libjpeg->content_hash);
  }
}

TEST(jpeg_scan, finds_a_blank_slice_as_libjpeg_does_ignoring_the_padding_blocks) {
  for (const auto& options : {jpeg_options{1, 1, 1, 0}, jpeg_options{3, 2, 2, 2}}) {
    // 61x37: the MCUs at the right and bottom edges hold padding blocks.
    const auto blank = encode(61, 37, options, true);
    EXPECT_TRUE(detail::scan_jpeg(blank).constant);
    auto ours = verify_image(blank, "blank.jpg");
    ASSERT_TRUE(ours);
    EXPECT_TRUE(ours->constant);
    EXPECT_TRUE(detail::verify_jpeg_with_libjpeg(blank, "blank.jpg")->constant);
  }
}

TEST(jpeg_scan, leaves_a_progressive_file_to_libjpeg_which_still_checks_it_whole) {
  const auto jpeg = encode(97, 61, {3, 2, 2, 0, true});
  EXPECT_EQ(detail::scan_jpeg(jpeg).verdict, detail::scan_verdict::unsupported);
  EXPECT_TRUE(verify_image(jpeg, "progressive.jpg"));
  const auto cut = jpeg.substr(0, jpeg.size() - 200);
  auto checked = verify_image(cut, "progressive.jpg");
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().message.find("'progressive.jpg' is truncated"), std::string::npos);
}

TEST(jpeg_scan, calls_every_cut_inside_the_entropy_coded_data_truncated) {
  for (const auto& options :
       {jpeg_options{3, 2, 2, 0}, jpeg_options{3, 2, 2, 2}, jpeg_options{1, 1, 1, 0}}) {
    const auto jpeg = encode(64, 48, options);
    for (std::size_t end = scan_start(jpeg); end < jpeg.size() - 1; end += 7) {
      const auto cut = jpeg.substr(0, end);
      const auto scanned = detail::scan_jpeg(cut);
      EXPECT_EQ(scanned.verdict, detail::scan_verdict::corrupt) << "cut at " << end;
      EXPECT_TRUE(scanned.truncated) << "cut at " << end << ": " << scanned.problem;
      auto checked = verify_image(cut, "cut.jpg");
      ASSERT_FALSE(checked) << "cut at " << end;
      EXPECT_NE(checked.error().message.find("'cut.jpg' is truncated: the entropy-coded data"),
                std::string::npos)
          << checked.error().message;
    }
  }
}

TEST(jpeg_scan, names_a_run_of_invalid_huffman_codes_with_its_mcu) {
  // 48 one-bits (0xFF stuffed as FF 00): some code starts in the first 31 and is followed
  // by 16 ones, which no table libjpeg writes holds (no code may be all ones).
  auto jpeg = encode(128, 128, {3, 2, 2, 0});
  const std::size_t middle = (scan_start(jpeg) + jpeg.size()) / 2;
  std::string ones;
  for (int i = 0; i < 6; ++i) ones += std::string("\xFF\x00", 2);
  jpeg.replace(middle, 6, ones);
  const auto scanned = detail::scan_jpeg(jpeg);
  EXPECT_EQ(scanned.verdict, detail::scan_verdict::corrupt);
  auto checked = verify_image(jpeg, "bits.jpg");
  ASSERT_FALSE(checked);
  EXPECT_NE(
      checked.error().message.find("'bits.jpg' is not a whole JPEG: bad Huffman code in MCU "),
      std::string::npos)
      << checked.error().message;
}

TEST(jpeg_scan, flags_extra_bytes_before_the_end_of_the_scan_and_restart_markers_out_of_order) {
  const auto jpeg = encode(64, 64, {3, 2, 2, 4});
  const auto eoi = jpeg.size() - 2;
  auto padded = jpeg;
  padded.insert(eoi, "\x12\x34\x56", 3);
  auto checked = verify_image(padded, "extra.jpg");
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().message.find("3 bytes of extra data after MCU 16 of 16"),
            std::string::npos)
      << checked.error().message;

  auto swapped = jpeg;
  const auto rst0 = swapped.find("\xFF\xD0");
  ASSERT_NE(rst0, std::string::npos);
  swapped[rst0 + 1] = '\xD1';
  checked = verify_image(swapped, "rst.jpg");
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().message.find("restart marker RST1 where RST0 belongs"),
            std::string::npos)
      << checked.error().message;
}

TEST(jpeg_scan, refuses_a_huffman_table_libjpeg_refuses) {
  detail::jpeg_scan_layout layout;
  layout.width = layout.height = 8;
  layout.components.push_back({1, 1, 0, 0});
  layout.has_dc[0] = layout.has_ac[0] = true;
  layout.dc[0].counts[1] = 2;  // "0" and "1": the second is all ones
  layout.ac[0].counts[1] = 1;
  EXPECT_EQ(detail::scan_entropy_coded_data(layout, std::string("\x00\xFF\xD9", 3)).verdict,
            detail::scan_verdict::unsupported);
  layout.dc[0].counts[1] = 1;  // "0" -> symbol 0
  layout.ac[0].counts[1] = 1;  // "0" -> EOB
  // One block: DC "0", EOB "0", padding ones.
  const auto whole = detail::scan_entropy_coded_data(layout, std::string("\x3F\xFF\xD9", 3));
  EXPECT_EQ(whole.verdict, detail::scan_verdict::whole) << whole.problem;
  EXPECT_TRUE(whole.constant);
  layout.dc[0].symbols[0] = 16;  // a DC size over 15
  EXPECT_EQ(detail::scan_entropy_coded_data(layout, std::string("\x3F\xFF\xD9", 3)).verdict,
            detail::scan_verdict::unsupported);
}

}  // namespace
}  // namespace ctprep::imaging

namespace ctprep::imaging {
namespace {

TEST(jpeg_scan, keeps_the_tables_a_scan_holds_while_it_derives_new_ones) {
  // Scans of three components with six tables each: components 1 and 2 new ones,
  // component 0 those of component 1 two scans before, the oldest in the cache. The cache
  // must not drop a table the scan already holds while it derives the new ones (run under
  // AddressSanitizer in CI, a dropped one is a use after free).
  for (int round = 0; round < 40; ++round) {
    detail::jpeg_scan_layout layout;
    layout.width = layout.height = 8;
    for (int c = 0; c < 3; ++c) {
      const auto slot = static_cast<std::size_t>(c);
      layout.components.push_back({1, 1, c, c});
      layout.has_dc[slot] = layout.has_ac[slot] = true;
      layout.dc[slot].counts[1] = 1;  // "0" -> size 0
      layout.ac[slot].counts[1] = 1;  // "0" -> EOB
      // Unused symbol bytes make each table distinct.
      const int tag = c == 0 && round >= 2 ? (round - 2) * 3 + 1 : round * 3 + c;
      layout.dc[slot].symbols[9] = static_cast<std::uint8_t>(tag);
      layout.ac[slot].symbols[9] = static_cast<std::uint8_t>(tag);
    }
    // One MCU: three blocks of DC "0" and EOB "0", then padding ones.
    const auto outcome = detail::scan_entropy_coded_data(layout, std::string("\x03\xFF\xD9", 3));
    ASSERT_EQ(outcome.verdict, detail::scan_verdict::whole) << round << ": " << outcome.problem;
  }
}

}  // namespace
}  // namespace ctprep::imaging
