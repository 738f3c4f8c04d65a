#include "ctprep/core/identity.hpp"

#include <gtest/gtest.h>

namespace ctprep::core {
namespace {

struct identity_case {
  const char* file_name;
  const char* patient;
  const char* instance;
};

// SPEC 1's examples and the layouts every source uses.
constexpr identity_case good_names[] = {
    {"v3_thick_520892552_14_aug2.png", "520892552", "14"},
    {"roboflow_525190930_29_png.rf.ab12.jpg", "525190930", "29"},
    {"591645860_2.png", "591645860", "2"},
    {"thin_1_2.jpg", "1", "2"},
    {"thick_123_45.jpg", "123", "45"},
    {"v3_thin_123_45.jpg", "123", "45"},
    {"no_hem_591645860_2.png", "591645860", "2"},
    {"525190930_29_png.rf.0123456789abcdef.jpg", "525190930", "29"},
    {"roboflow_525190930_29_png.rf.ab12_aug1.jpg", "525190930", "29"},
    {"v4_v5_roboflow_7_8.png", "7", "8"},
    {"007_0010.png", "7", "10"},
    {"000_000.png", "0", "0"},
    {"520892552_14_extra.png", "520892552", "14"},
    {"520892552_14", "520892552", "14"},
    {"some/folder/520892552_14.png", "520892552", "14"},
    {"520892552_14_aug0.png", "520892552", "14"},
};

TEST(slice_identity, reads_every_documented_name_form) {
  for (const auto& c : good_names) {
    auto id = parse_slice_identity(c.file_name);
    ASSERT_TRUE(id) << c.file_name << ": " << id.error().message;
    EXPECT_EQ(id->patient, c.patient) << c.file_name;
    EXPECT_EQ(id->instance, c.instance) << c.file_name;
  }
}

constexpr const char* bad_names[] = {
    "",          ".png",       "abc.png",      "v3_thick_.png", "123.png",    "123_.png",
    "123_x.png", "_123_4.png", "v3_abc_1.png", "123-4.png",     "p123_4.png", "123_4x.png",
};

TEST(slice_identity, rejects_names_that_break_the_rule_and_names_the_file) {
  for (const char* name : bad_names) {
    auto id = parse_slice_identity(name);
    ASSERT_FALSE(id) << name << " parsed as " << id->patient << "_" << id->instance;
    EXPECT_EQ(id.error().code, error_code::bad_identity);
    EXPECT_NE(id.error().message.find(std::string("'") + name + "'"), std::string::npos)
        << id.error().message;
    EXPECT_TRUE(id.error().message.starts_with("bad_identity: "));
  }
}

TEST(slice_identity, augmentation_version_reads_the_trailing_aug_suffix) {
  EXPECT_EQ(augmentation_version("v3_thick_1_2_aug2.png"), 2);
  EXPECT_EQ(augmentation_version("v3_thick_1_2_aug0.png"), 0);
  EXPECT_EQ(augmentation_version("roboflow_1_2_png.rf.ab_aug11.jpg"), 11);
  EXPECT_EQ(augmentation_version("v3_thick_1_2.png"), std::nullopt);
  EXPECT_EQ(augmentation_version("v3_thick_1_2_augx.png"), std::nullopt);
  EXPECT_EQ(augmentation_version("v3_thick_1_2_aug.png"), std::nullopt);
}

TEST(slice_identity, original_file_name_drops_only_the_aug_suffix) {
  EXPECT_EQ(original_file_name("v3_thick_1_2_aug2.png"), "v3_thick_1_2.png");
  EXPECT_EQ(original_file_name("roboflow_1_2_png.rf.ab_aug1.jpg"), "roboflow_1_2_png.rf.ab.jpg");
  EXPECT_EQ(original_file_name("1_2.png"), "1_2.png");
}

TEST(slice_identity, source_comes_from_the_prefix) {
  EXPECT_EQ(source_of("v3_thick_1_2.jpg"), image_source::v3);
  EXPECT_EQ(source_of("roboflow_1_2_png.rf.a.jpg"), image_source::roboflow);
  EXPECT_EQ(source_of("no_hem_1_2.png"), image_source::no_hem);
  EXPECT_EQ(source_of("1_2.png"), image_source::no_hem);
  EXPECT_EQ(source_name(image_source::roboflow), "roboflow");
}

TEST(slice_identity, canonical_digits_strips_leading_zeros) {
  EXPECT_EQ(canonical_digits("007"), "7");
  EXPECT_EQ(canonical_digits("000"), "0");
  EXPECT_EQ(canonical_digits(""), std::nullopt);
  EXPECT_EQ(canonical_digits("12a"), std::nullopt);
  EXPECT_EQ(to_string(slice_id{"12", "3"}), "12_3");
}

}  // namespace
}  // namespace ctprep::core
