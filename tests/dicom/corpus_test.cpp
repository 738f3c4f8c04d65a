// Every file of the DICOM corpus Debian's python3-pydicom ships (truncated files, big
// endian, bad VRs, no meta, deflate, RLE, JPEG, JPEG-LS, JPEG 2000, reports, DICOMDIRs)
// goes through convert: each gives a PNG or a named outcome, never a crash or a hang.
// Pixel agreement with pydicom on this corpus was checked when writing the decoder (max
// difference 0 on every file pydicom decodes); here the lossless variants of one image
// must give one pixel hash.
#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "ctprep/core/files.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/dicom/convert.hpp"
#include "ctprep/imaging/codec.hpp"

namespace {
namespace fs = std::filesystem;
using ctprep::dicom::convert_outcome;

fs::path corpus() {
  return fs::path(PYDICOM_TEST_FILES);
}

ctprep::dicom::converted_slice convert(const fs::path& path,
                                       const ctprep::dicom::convert_options& o = {}) {
  auto r = ctprep::dicom::convert_file(path, o);
  EXPECT_TRUE(r.has_value()) << path << ": " << (r ? "" : r.error().message);
  return r ? *r : ctprep::dicom::converted_slice{};
}

std::uint64_t pixel_hash(const std::string& png) {
  auto img = ctprep::imaging::decode_image(png, "x.png");
  if (!img) return 0;
  return ctprep::core::stable_hash(
      std::string_view(reinterpret_cast<const char*>(img->pixels.data()), img->pixels.size()));
}

TEST(dicom_corpus, every_file_gives_a_png_or_a_named_outcome) {
  if (std::string(PYDICOM_TEST_FILES).empty() || !fs::is_directory(corpus())) {
    GTEST_SKIP() << "python3-pydicom's test_files not installed";
  }
  ctprep::dicom::convert_options o;
  o.filter_thickness = false;
  std::map<convert_outcome, int> counts;
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(corpus())) {
    if (!e.is_regular_file()) continue;
    ++files;
    const auto r = convert(e.path(), o);
    ++counts[r.outcome];
    if (r.outcome == convert_outcome::converted) {
      auto img = ctprep::imaging::decode_image(r.png_bytes, e.path().string());
      ASSERT_TRUE(img) << e.path();
      EXPECT_EQ(img->width, r.width);
      EXPECT_EQ(img->height, r.height);
      EXPECT_TRUE(r.reason.empty());
    } else {
      EXPECT_TRUE(r.png_bytes.empty());
      EXPECT_NE(r.reason.find(e.path().string()), std::string::npos) << r.reason;
    }
  }
  EXPECT_GT(files, 100u);
  EXPECT_GT(counts[convert_outcome::converted], 60);
  EXPECT_GT(counts[convert_outcome::skipped_not_image], 30);
  EXPECT_GT(counts[convert_outcome::failed], 5);
}

TEST(dicom_corpus, known_files_give_their_outcome) {
  if (!fs::is_directory(corpus())) GTEST_SKIP();
  ctprep::dicom::convert_options o;
  o.filter_thickness = false;
  struct c {
    const char* file;
    convert_outcome outcome;
    const char* needle;
  };
  const c cases[] = {
      {"CT_small.dcm", convert_outcome::converted, ""},
      {"ExplVR_BigEndNoMeta.dcm", convert_outcome::skipped_not_image, "not an image"},
      {"ExplVR_BigEnd.dcm", convert_outcome::converted, ""},
      {"rtdose_rle_1frame.dcm", convert_outcome::converted, ""},  // GDCM's parser asserts on it
      {"SC_rgb_jpeg.dcm", convert_outcome::converted, ""},        // GDCM's parser takes seconds
      {"SC_rgb_rle_16bit.dcm", convert_outcome::failed, "16-bit colour RLE"},
      {"image_dfl.dcm", convert_outcome::converted, ""},  // deflated
      {"SC_ybr_full_422_uncompressed.dcm", convert_outcome::converted, ""},
      {"MR_truncated.dcm", convert_outcome::failed, "truncated: element (7FE0,0010)"},
      {"rtplan_truncated.dcm", convert_outcome::failed, "truncated"},
      {"README.txt", convert_outcome::failed, "is not DICOM"},
      {"liver_1frame.dcm", convert_outcome::failed, "BitsAllocated (0028,0100) 1"},
      {"JPEG2000-embedded-sequence-delimiter.dcm", convert_outcome::failed, "JPEG 2000"},
      {"reportsi.dcm", convert_outcome::skipped_not_image, "not an image"},
      {"rtstruct.dcm", convert_outcome::skipped_not_image, "not an image"},
      {"dicomdirtests/DICOMDIR", convert_outcome::skipped_not_image, "1.2.840.10008.1.3.10"},
  };
  for (const auto& k : cases) {
    const auto r = convert(corpus() / k.file, o);
    EXPECT_EQ(r.outcome, ctprep::dicom::convert_outcome(k.outcome)) << k.file << ": " << r.reason;
    EXPECT_NE(r.reason.find(k.needle), std::string::npos) << k.file << ": " << r.reason;
  }
  // CT_small has no window: brain is used and said so.
  const auto ct = convert(corpus() / "CT_small.dcm", o);
  EXPECT_EQ(ct.patient_id, "1CT1");
  EXPECT_TRUE(ct.window_fell_back);
  EXPECT_EQ(ct.window_used, "brain 40/80");
}

TEST(dicom_corpus, lossless_encodings_of_one_image_give_one_pixel_hash) {
  if (!fs::is_directory(corpus())) GTEST_SKIP();
  ctprep::dicom::convert_options all;
  all.filter_thickness = false;
  const auto reference = convert(corpus() / "MR_small.dcm", all);
  ASSERT_EQ(reference.outcome, convert_outcome::converted) << reference.reason;
  const auto want = pixel_hash(reference.png_bytes);
  for (const char* f :
       {"MR_small_RLE.dcm", "MR_small_bigendian.dcm", "MR_small_expb.dcm", "MR_small_implicit.dcm",
        "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_padded.dcm"}) {
    const auto r = convert(corpus() / f, all);
    ASSERT_EQ(r.outcome, convert_outcome::converted) << f << ": " << r.reason;
    EXPECT_EQ(pixel_hash(r.png_bytes), want) << f;
  }
  // Multi-frame: frame 1 differs from frame 0; a frame past the end fails with a reason.
  ctprep::dicom::convert_options o;
  o.filter_thickness = false;
  const auto f0 = convert(corpus() / "SC_rgb_rle_2frame.dcm", o);
  o.frame = 1;
  const auto f1 = convert(corpus() / "SC_rgb_rle_2frame.dcm", o);
  ASSERT_EQ(f1.outcome, convert_outcome::converted) << f1.reason;
  EXPECT_NE(pixel_hash(f0.png_bytes), pixel_hash(f1.png_bytes));
  o.frame = 2;
  const auto f2 = convert(corpus() / "SC_rgb_rle_2frame.dcm", o);
  EXPECT_EQ(f2.outcome, convert_outcome::failed);
  EXPECT_NE(f2.reason.find("frame 2"), std::string::npos) << f2.reason;
}

}  // namespace
