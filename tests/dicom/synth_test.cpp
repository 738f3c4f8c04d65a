#include "ctprep/dicom/synth.hpp"

#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/dicom/convert.hpp"
#include "ctprep/dicom/header.hpp"
#include "ctprep/imaging/codec.hpp"
#include "support/testing.hpp"

namespace {

using namespace ctprep;

// PS3.3 C.11.2.1.2.1 LINEAR on HU, 0..255, rounded to nearest, written independently.
int reference_linear(double x, double c, double w) {
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 255;
  return static_cast<int>(std::floor(((x - (c - 0.5)) / (w - 1) + 0.5) * 255 + 0.5));
}

dicom::synth_slice_spec spec_for(dicom::synth_syntax syntax) {
  dicom::synth_slice_spec s;
  s.patient_id = "512345678";
  s.instance = 14;
  s.slices_in_series = 32;
  s.syntax = syntax;
  s.seed = 7;
  return s;
}

TEST(synth_slice, every_syntax_converts_to_the_reference_pixels) {
  const auto reference = dicom::synthesize_slice(spec_for(dicom::synth_syntax::explicit_le));
  ASSERT_TRUE(reference);
  ASSERT_EQ(reference->stored.size(), 512u * 512u);
  std::vector<std::uint8_t> want(reference->stored.size());
  std::size_t padding = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const int s = reference->stored[i];
    padding += s == -2000 ? 1 : 0;
    want[i] = s == -2000 ? 0 : static_cast<std::uint8_t>(reference_linear(s - 1024.0, 40, 80));
  }
  EXPECT_GT(padding, 0u);
  std::map<std::string, std::uint64_t> hashes;
  for (auto syntax :
       {dicom::synth_syntax::explicit_le, dicom::synth_syntax::implicit_le,
        dicom::synth_syntax::explicit_be, dicom::synth_syntax::rle, dicom::synth_syntax::jpeg_ls,
        dicom::synth_syntax::j2k, dicom::synth_syntax::jpeg_lossless}) {
    const std::string name(dicom::synth_syntax_name(syntax));
    auto slice = dicom::synthesize_slice(spec_for(syntax));
    ASSERT_TRUE(slice) << name << ": " << slice.error().message;
    EXPECT_EQ(slice->stored, reference->stored) << name;
    auto h = dicom::parse_header(slice->bytes, name);
    ASSERT_TRUE(h) << name << ": " << h.error().message;
    EXPECT_EQ(h->transfer_syntax, dicom::synth_syntax_uid(syntax)) << name;
    EXPECT_EQ(h->patient_id, "512345678");
    EXPECT_EQ(h->instance_number, "14");
    auto r = dicom::convert_dicom(slice->bytes, name, {});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->outcome, dicom::convert_outcome::converted) << name << ": " << r->reason;
    auto img = imaging::decode_image(r->png_bytes, name);
    ASSERT_TRUE(img);
    ASSERT_EQ(img->pixels.size(), want.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < want.size(); ++i) differ += img->pixels[i] != want[i] ? 1 : 0;
    EXPECT_EQ(differ, 0u) << name;
    hashes[name] = core::stable_hash(
        std::string_view(reinterpret_cast<const char*>(img->pixels.data()), img->pixels.size()));
  }
  for (const auto& [name, hash] : hashes) EXPECT_EQ(hash, hashes["explicit"]) << name;
}

TEST(synth_slice, same_spec_gives_the_same_bytes) {
  for (auto syntax :
       {dicom::synth_syntax::explicit_le, dicom::synth_syntax::rle, dicom::synth_syntax::j2k}) {
    auto a = dicom::synthesize_slice(spec_for(syntax));
    auto b = dicom::synthesize_slice(spec_for(syntax));
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(a->bytes == b->bytes) << dicom::synth_syntax_name(syntax);
  }
  auto other = spec_for(dicom::synth_syntax::explicit_le);
  other.seed = 8;
  EXPECT_NE(dicom::synthesize_slice(other)->stored,
            dicom::synthesize_slice(spec_for(dicom::synth_syntax::explicit_le))->stored);
}

TEST(synth_slice, rejects_impossible_specs) {
  auto s = spec_for(dicom::synth_syntax::explicit_le);
  s.instance = 0;
  EXPECT_FALSE(dicom::synthesize_slice(s));
  s = spec_for(dicom::synth_syntax::explicit_le);
  s.patient_id = "";
  EXPECT_FALSE(dicom::synthesize_slice(s));
  EXPECT_FALSE(dicom::parse_synth_syntax("jpeg2000"));
  EXPECT_EQ(*dicom::parse_synth_syntax("jpeg-lossless"), dicom::synth_syntax::jpeg_lossless);
}

TEST(synth_series, writes_files_thickness_shares_and_a_coco_sidecar) {
  ctprep::testing::temp_dir dir;
  dicom::synth_options o;
  o.out_dir = dir.path();
  o.series = 4;
  o.slices = 10;
  o.seed = 3;
  o.jobs = 2;
  auto r = dicom::write_series(o);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->files.size(), 40u);
  int wrong = 0, thick = 0, five = 0;
  for (const auto& f : r->files) {
    ASSERT_TRUE(std::filesystem::exists(f.path)) << f.path;
    EXPECT_EQ(f.path, dir.path() / f.patient_id / (std::to_string(f.instance) + ".dcm"));
    if (f.thickness == 5.0)
      ++five;
    else if (f.thickness == 5.5)
      ++thick;
    else
      ++wrong;
  }
  EXPECT_EQ(wrong, 4);  // 10% of 40
  EXPECT_EQ(thick, 7);  // 20% of the other 36, rounded
  EXPECT_EQ(five, 29);
  auto coco = coco::read_file(r->coco_path);
  ASSERT_TRUE(coco);
  EXPECT_EQ(coco->images.size(), 40u);
  EXPECT_EQ(coco->categories.size(), 6u);
  EXPECT_EQ(*coco, r->boxes);
  EXPECT_EQ(coco->images[0].file_name, r->files[0].patient_id + "_1.png");

  // Same seed, other job count: same bytes.
  ctprep::testing::temp_dir again;
  o.out_dir = again.path();
  o.jobs = 1;
  auto r2 = dicom::write_series(o);
  ASSERT_TRUE(r2);
  for (std::size_t i = 0; i < r->files.size(); ++i) {
    EXPECT_TRUE(ctprep::testing::read_text(r->files[i].path) ==
                ctprep::testing::read_text(r2->files[i].path))
        << i;
  }
  EXPECT_EQ(ctprep::testing::read_text(r->coco_path), ctprep::testing::read_text(r2->coco_path));
}

}  // namespace
