#include "ctprep/dicom/convert.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ctprep/dicom/header.hpp"
#include "ctprep/dicom/pixels.hpp"
#include "ctprep/dicom/synth.hpp"
#include "ctprep/imaging/codec.hpp"
#include "dicom/dicom_builder.hpp"

namespace {

using ctprep::dicom::convert_dicom;
using ctprep::dicom::convert_options;
using ctprep::dicom::convert_outcome;
using ctprep::testing::dicom_builder;

// The PS3.3 C.11.2.1.2 functions written out again, independently of the library, with
// output range 0..255 and rounding to nearest (half up).
int reference_linear(double x, double c, double w) {
  const double lo = c - 0.5 - (w - 1) / 2;
  const double hi = c - 0.5 + (w - 1) / 2;
  if (x <= lo) return 0;
  if (x > hi) return 255;
  return static_cast<int>(std::floor(((x - (c - 0.5)) / (w - 1) + 0.5) * 255 + 0.5));
}
int reference_linear_exact(double x, double c, double w) {
  if (x <= c - w / 2) return 0;
  if (x > c + w / 2) return 255;
  return static_cast<int>(std::floor(((x - c) / w + 0.5) * 255 + 0.5));
}
int reference_sigmoid(double x, double c, double w) {
  return static_cast<int>(std::floor(255 / (1 + std::exp(-4 * (x - c) / w)) + 0.5));
}

std::vector<std::uint8_t> decode_png(const std::string& png, int expect_channels = 1) {
  auto img = ctprep::imaging::decode_image(png, "test.png");
  EXPECT_TRUE(img.has_value()) << (img ? "" : img.error().message);
  if (!img) return {};
  EXPECT_EQ(img->channels, expect_channels);
  return img->pixels;
}

std::vector<std::uint16_t> words_of(const std::vector<int>& values) {
  std::vector<std::uint16_t> w;
  for (int v : values) w.push_back(static_cast<std::uint16_t>(v));
  return w;
}

// A 4x4 CT slice: slope/intercept, window and values chosen by the test.
dicom_builder ct_slice(const std::vector<int>& stored, bool is_signed = true) {
  dicom_builder b;
  b.str(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.2")
      .str(0x0008, 0x0060, "CS", "CT")
      .str(0x0010, 0x0020, "LO", "123456")
      .str(0x0018, 0x0050, "DS", "5.0")
      .str(0x0020, 0x0013, "IS", "7")
      .str(0x0028, 0x1050, "DS", "40")
      .str(0x0028, 0x1051, "DS", "80")
      .str(0x0028, 0x1052, "DS", "-1024")
      .str(0x0028, 0x1053, "DS", "1")
      .image16(4, 4, words_of(stored), is_signed);
  return b;
}

const std::vector<int> ramp = {-2000, 0,    900,  1000, 1024, 1030, 1043, 1063,
                               1064,  1065, 1100, 1103, 1104, 2000, 3000, 4095};

TEST(convert_pixels, linear_header_window_matches_the_ps33_formula_exactly) {
  const auto bytes = ct_slice(ramp).build();
  auto r = convert_dicom(bytes, "ramp.dcm", {});
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->outcome, convert_outcome::converted) << r->reason;
  EXPECT_EQ(r->window_used, "header 40/80 LINEAR");
  EXPECT_FALSE(r->window_fell_back);
  EXPECT_EQ(r->patient_id, "123456");
  EXPECT_EQ(r->instance_number, "7");
  const auto px = decode_png(r->png_bytes);
  ASSERT_EQ(px.size(), 16u);
  for (std::size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(px[i], reference_linear(ramp[i] - 1024.0, 40, 80)) << "pixel " << i;
  }
}

TEST(convert_pixels, linear_exact_and_sigmoid_follow_voi_lut_function) {
  for (const std::string fn : {"LINEAR_EXACT", "SIGMOID"}) {
    auto b = ct_slice(ramp);
    b.str(0x0028, 0x1056, "CS", fn);
    auto r = convert_dicom(b.build(), "fn.dcm", {});
    ASSERT_TRUE(r && r->outcome == convert_outcome::converted);
    EXPECT_EQ(r->window_used, "header 40/80 " + fn);
    const auto px = decode_png(r->png_bytes);
    ASSERT_EQ(px.size(), 16u);
    for (std::size_t i = 0; i < 16; ++i) {
      const double hu = ramp[i] - 1024.0;
      const int want =
          fn == "SIGMOID" ? reference_sigmoid(hu, 40, 80) : reference_linear_exact(hu, 40, 80);
      EXPECT_EQ(px[i], want) << fn << " pixel " << i;
    }
  }
}

TEST(convert_pixels, presets_custom_and_multi_windows) {
  const auto bytes = ct_slice(ramp).build();
  struct c {
    std::string spec;
    double center, width;
  };
  for (const auto& w : {c{"brain", 40, 80}, c{"subdural", 80, 200}, c{"bone", 600, 2800},
                        c{"-600/1500", -600, 1500}}) {
    convert_options o;
    o.window = *ctprep::dicom::parse_window(w.spec);
    auto r = convert_dicom(bytes, "w.dcm", o);
    ASSERT_TRUE(r && r->outcome == convert_outcome::converted);
    const auto px = decode_png(r->png_bytes);
    for (std::size_t i = 0; i < 16; ++i) {
      EXPECT_EQ(px[i], reference_linear(ramp[i] - 1024.0, w.center, w.width)) << w.spec << " " << i;
    }
  }
  convert_options o;
  o.window = *ctprep::dicom::parse_window("multi");
  auto r = convert_dicom(bytes, "multi.dcm", o);
  ASSERT_TRUE(r && r->outcome == convert_outcome::converted);
  const auto px = decode_png(r->png_bytes, 3);
  ASSERT_EQ(px.size(), 48u);
  for (std::size_t i = 0; i < 16; ++i) {
    const double hu = ramp[i] - 1024.0;
    EXPECT_EQ(px[3 * i], reference_linear(hu, 40, 80));
    EXPECT_EQ(px[3 * i + 1], reference_linear(hu, 80, 200));
    EXPECT_EQ(px[3 * i + 2], reference_linear(hu, 600, 2800));
  }
}

TEST(convert_pixels, rgb_output_repeats_the_gray_value) {
  convert_options o;
  o.colour = ctprep::dicom::colour_mode::rgb;
  auto r = convert_dicom(ct_slice(ramp).build(), "rgb.dcm", o);
  ASSERT_TRUE(r && r->outcome == convert_outcome::converted);
  const auto px = decode_png(r->png_bytes, 3);
  for (std::size_t i = 0; i < 16; ++i) {
    const int want = reference_linear(ramp[i] - 1024.0, 40, 80);
    EXPECT_EQ(px[3 * i], want);
    EXPECT_EQ(px[3 * i + 1], want);
    EXPECT_EQ(px[3 * i + 2], want);
  }
}

TEST(convert_pixels, unsigned_values_above_32767_stay_positive) {
  // Unsigned 16-bit with intercept -32768: stored 32800 is +32 HU, not negative (the
  // original turned it negative).
  std::vector<int> values = {32768, 32800, 32808, 32900, 40000, 65535, 0,     100,
                             32768, 32808, 32809, 32810, 32848, 32849, 50000, 1};
  auto b = ct_slice(values, false);
  b.str(0x0028, 0x1052, "DS", "-32768");
  auto r = convert_dicom(b.build(), "u16.dcm", {});
  ASSERT_TRUE(r && r->outcome == convert_outcome::converted);
  const auto px = decode_png(r->png_bytes);
  for (std::size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(px[i], reference_linear(values[i] - 32768.0, 40, 80)) << i;
  }
  EXPECT_EQ(px[5], 255);  // 65535 is the brightest, not -1
}

TEST(convert_pixels, bits_stored_masks_high_bits_and_sign_extends) {
  // 12 bits stored, signed, garbage in the top 4 bits (an overlay plane, say).
  std::vector<int> logical = {-2048, -1, 0, 1, 40, 80, 2047, -100, 0, 0, 0, 0, 0, 0, 0, 0};
  std::vector<std::uint16_t> words;
  for (std::size_t i = 0; i < logical.size(); ++i) {
    const auto twelve = static_cast<std::uint16_t>(logical[i] & 0x0FFF);
    words.push_back(static_cast<std::uint16_t>(twelve | (i % 2 ? 0xF000 : 0x5000)));
  }
  dicom_builder b;
  b.str(0x0018, 0x0050, "DS", "5")
      .str(0x0028, 0x1050, "DS", "40")
      .str(0x0028, 0x1051, "DS", "80")
      .image16(4, 4, words, true, 12, 11);
  auto r = convert_dicom(b.build(), "b12.dcm", {});
  ASSERT_TRUE(r && r->outcome == convert_outcome::converted) << (r ? r->reason : "");
  const auto px = decode_png(r->png_bytes);
  for (std::size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(px[i], reference_linear(logical[i], 40, 80)) << i;
  }
}

TEST(convert_pixels, monochrome1_is_inverted_and_padding_is_black) {
  auto b = ct_slice(ramp);
  b.str(0x0028, 0x0004, "CS", "MONOCHROME1").ss(0x0028, 0x0120, -2000);
  auto r = convert_dicom(b.build(), "m1.dcm", {});
  ASSERT_TRUE(r && r->outcome == convert_outcome::converted);
  const auto px = decode_png(r->png_bytes);
  EXPECT_EQ(px[0], 0);  // padding: black even after inversion
  for (std::size_t i = 1; i < 16; ++i) {
    EXPECT_EQ(px[i], 255 - reference_linear(ramp[i] - 1024.0, 40, 80)) << i;
  }
}

TEST(convert_pixels, padding_range_limit_blacks_out_the_whole_range) {
  auto b = ct_slice(ramp);
  b.ss(0x0028, 0x0120, 1100).ss(0x0028, 0x0121, 1064);  // [1064, 1100] is padding
  auto r = convert_dicom(b.build(), "range.dcm", {});
  ASSERT_TRUE(r && r->outcome == convert_outcome::converted);
  const auto px = decode_png(r->png_bytes);
  for (std::size_t i = 0; i < 16; ++i) {
    const bool pad = ramp[i] >= 1064 && ramp[i] <= 1100;
    EXPECT_EQ(px[i], pad ? 0 : reference_linear(ramp[i] - 1024.0, 40, 80)) << i;
  }
}

TEST(convert_pixels, sixteen_bit_output_is_hu_plus_1024_clipped) {
  convert_options o;
  o.bit_depth = 16;
  auto b = ct_slice(ramp);
  b.str(0x0028, 0x1052, "DS", "-2048");  // so that some values clip at 0
  auto r = convert_dicom(b.build(), "hu.dcm", o);
  ASSERT_TRUE(r && r->outcome == convert_outcome::converted);
  auto img = ctprep::imaging::decode_image(r->png_bytes, "hu.png");
  ASSERT_TRUE(img);  // decode_image gives 8-bit; check the header says 16-bit instead
  EXPECT_EQ(static_cast<unsigned char>(r->png_bytes[24]), 16);  // IHDR bit depth
  // The values themselves, from the render stage: HU + 1024, clipped, padding 0.
  b.ss(0x0028, 0x0120, 3000);
  const auto bytes = b.build();
  auto h = ctprep::dicom::parse_header(bytes, "hu.dcm");
  ASSERT_TRUE(h);
  auto frame = ctprep::dicom::decode_frame(bytes, *h, 0, "hu.dcm");
  ASSERT_TRUE(frame);
  auto rendered = ctprep::dicom::render(*frame, *h, o, "hu.dcm");
  ASSERT_TRUE(rendered);
  ASSERT_EQ(rendered->pixels16.size(), 16u);
  for (std::size_t i = 0; i < 16; ++i) {
    const double hu = ramp[i] - 2048.0;
    const int want = ramp[i] == 3000 ? 0 : static_cast<int>(std::clamp(hu + 1024, 0.0, 65535.0));
    EXPECT_EQ(rendered->pixels16[i], want) << i;
  }
}

TEST(dicom_header, prefix_parse_reads_the_header_of_a_cut_file) {
  const auto bytes = ct_slice(ramp).build();
  const auto cut = bytes.substr(0, bytes.size() - 20);
  EXPECT_FALSE(ctprep::dicom::parse_header(cut, "cut.dcm"));
  auto h = ctprep::dicom::parse_header(cut, "cut.dcm", true);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->patient_id, "123456");
  EXPECT_EQ(h->pixel_length, 32u);
  // Anything but the pixel data cut short is still an error.
  EXPECT_FALSE(ctprep::dicom::parse_header(bytes.substr(0, 200), "short.dcm", true));
}

TEST(convert_window, falls_back_to_brain_when_the_header_window_is_unusable) {
  for (const auto& [center, width] : std::vector<std::pair<std::string, std::string>>{
           {"40", "0"}, {"40", "-80"}, {"abc", "80"}, {"", ""}}) {
    auto b = ct_slice(ramp);
    if (center.empty()) {
      b.erase(0x0028, 0x1050).erase(0x0028, 0x1051);
    } else {
      b.str(0x0028, 0x1050, "DS", center).str(0x0028, 0x1051, "DS", width);
    }
    auto r = convert_dicom(b.build(), "nowin.dcm", {});
    ASSERT_TRUE(r && r->outcome == convert_outcome::converted);
    EXPECT_TRUE(r->window_fell_back) << center << "/" << width;
    EXPECT_EQ(r->window_used, "brain 40/80");
    ASSERT_FALSE(r->warnings.empty());
    EXPECT_NE(r->warnings.back().find("(0028,1050)"), std::string::npos);
    const auto px = decode_png(r->png_bytes);
    EXPECT_EQ(px[6], reference_linear(1043 - 1024.0, 40, 80));
  }
}

TEST(convert_window, first_value_of_a_multi_valued_window_is_used) {
  auto b = ct_slice(ramp);
  b.str(0x0028, 0x1050, "DS", "40\\300").str(0x0028, 0x1051, "DS", "80\\1500");
  auto r = convert_dicom(b.build(), "mv.dcm", {});
  ASSERT_TRUE(r && r->outcome == convert_outcome::converted);
  EXPECT_EQ(r->window_used, "header 40/80 LINEAR");
}

TEST(convert_window, parse_rejects_bad_specs) {
  EXPECT_FALSE(ctprep::dicom::parse_window("40/0"));
  EXPECT_FALSE(ctprep::dicom::parse_window("40/-5"));
  EXPECT_FALSE(ctprep::dicom::parse_window("lung"));
  EXPECT_FALSE(ctprep::dicom::parse_window("a/b"));
  auto w = ctprep::dicom::parse_window("-600/1500");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->kind, ctprep::dicom::window_kind::custom);
  EXPECT_EQ(w->center, -600);
  EXPECT_EQ(w->width, 1500);
}

TEST(convert_thickness, filters_on_slice_thickness_then_spacing) {
  auto thin = ct_slice(ramp);
  thin.str(0x0018, 0x0050, "DS", "1.25");
  auto r = convert_dicom(thin.build(), "thin.dcm", {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, convert_outcome::skipped_thickness);
  EXPECT_NE(r->reason.find("SliceThickness (0018,0050) 1.25 mm"), std::string::npos) << r->reason;

  auto tolerant = ct_slice(ramp);
  tolerant.str(0x0018, 0x0050, "DS", "5.6");
  r = convert_dicom(tolerant.build(), "t.dcm", {});
  EXPECT_EQ(r->outcome, convert_outcome::converted);

  auto spacing = ct_slice(ramp);
  spacing.erase(0x0018, 0x0050).str(0x0018, 0x0088, "DS", "3");
  r = convert_dicom(spacing.build(), "s.dcm", {});
  EXPECT_EQ(r->outcome, convert_outcome::skipped_thickness);
  EXPECT_NE(r->reason.find("SpacingBetweenSlices (0018,0088)"), std::string::npos);

  auto none = ct_slice(ramp);
  none.erase(0x0018, 0x0050);
  r = convert_dicom(none.build(), "n.dcm", {});
  EXPECT_EQ(r->outcome, convert_outcome::converted);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("kept"), std::string::npos);

  convert_options off;
  off.filter_thickness = false;
  r = convert_dicom(thin.build(), "thin.dcm", off);
  EXPECT_EQ(r->outcome, convert_outcome::converted);
}

TEST(convert_bad_input, each_bad_item_is_a_named_outcome) {
  struct c {
    std::string name;
    std::string bytes;
    convert_outcome outcome;
    std::string needle;
  };
  const auto good = ct_slice(ramp).build();
  auto no_pixels = ct_slice(ramp);
  no_pixels.erase(0x7FE0, 0x0010);
  auto not_image = dicom_builder().str(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.88.11");
  auto mismatch = ct_slice(ramp);
  mismatch.us(0x0028, 0x0100, 32);
  auto unsupported = ct_slice(ramp);
  unsupported.erase(0x7FE0, 0x0010);
  std::string frag = dicom_builder::le16(0xFFFE) + dicom_builder::le16(0xE000) +
                     dicom_builder::le32(0) + dicom_builder::le16(0xFFFE) +
                     dicom_builder::le16(0xE000) + dicom_builder::le32(8) + "garbage!" +
                     dicom_builder::le16(0xFFFE) + dicom_builder::le16(0xE0DD) +
                     dicom_builder::le32(0);
  std::string mpeg = unsupported.build("1.2.840.10008.1.2.4.100");
  mpeg += dicom_builder::le16(0x7FE0) + dicom_builder::le16(0x0010) + "OB" +
          dicom_builder::le16(0) + dicom_builder::le32(0xFFFFFFFF) + frag;
  const std::vector<c> cases = {
      {"truncated.dcm", good.substr(0, good.size() - 100), convert_outcome::failed, "truncated"},
      {"header_cut.dcm", good.substr(0, 200), convert_outcome::failed, "truncated"},
      {"text.dcm", "hello, I am not DICOM at all", convert_outcome::failed, "not DICOM"},
      {"empty.dcm", "", convert_outcome::failed, "not DICOM"},
      {"nopixels.dcm", no_pixels.build(), convert_outcome::failed, "no pixel data (7FE0,0010)"},
      {"sr.dcm", not_image.build(), convert_outcome::skipped_not_image, "not an image"},
      {"mismatch.dcm", mismatch.build(), convert_outcome::failed, "BitsAllocated 32"},
      {"mpeg.dcm", mpeg, convert_outcome::failed, "MPEG2"},
  };
  for (const auto& k : cases) {
    auto r = convert_dicom(k.bytes, k.name, {});
    ASSERT_TRUE(r.has_value()) << k.name;
    EXPECT_EQ(r->outcome, k.outcome) << k.name << ": " << r->reason;
    EXPECT_NE(r->reason.find(k.name), std::string::npos) << r->reason;
    EXPECT_NE(r->reason.find(k.needle), std::string::npos) << k.name << ": " << r->reason;
    EXPECT_TRUE(r->png_bytes.empty());
  }
}

TEST(convert_bad_input, impossible_options_are_errors_not_outcomes) {
  convert_options o;
  o.bit_depth = 12;
  auto r = convert_dicom(ct_slice(ramp).build(), "x.dcm", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ctprep::core::error_code::bad_argument);
}

TEST(convert_file, missing_file_is_not_found) {
  auto r = ctprep::dicom::convert_file("/nonexistent/dir/x.dcm", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ctprep::core::error_code::not_found);
}

}  // namespace
