#include "ctprep/pipeline/annotate.hpp"

#include <gtest/gtest.h>

#include "ctprep/coco/coco.hpp"
#include "support/testing.hpp"

namespace ctprep::pipeline {
namespace {

TEST(annotate_folder, lists_images_sorted_with_ids_from_one_and_header_sizes) {
  testing::temp_dir dir;
  testing::write_test_image(dir / "591645860_2.png", 512, 512);
  testing::write_test_image(dir / "520892552_14.png", 256, 128);
  testing::write_test_image(dir / "525190930_29.jpg", 64, 32);
  testing::write_text(dir / "notes.txt", "hello");
  testing::write_text(dir / "broken.png", "\x89PNG\r\n\x1a\nxx");
  auto r = annotate_folder(dir.path(), {2, nullptr});
  ASSERT_TRUE(r) << r.error().message;
  const auto& images = r->data.images;
  ASSERT_EQ(images.size(), 3u);
  EXPECT_EQ(images[0].file_name, "520892552_14.png");
  EXPECT_EQ(images[0].id, 1);
  EXPECT_EQ(images[0].width, 256);
  EXPECT_EQ(images[0].height, 128);
  EXPECT_EQ(images[1].file_name, "525190930_29.jpg");
  EXPECT_EQ(images[2].id, 3);
  EXPECT_TRUE(r->data.annotations.empty());
  ASSERT_EQ(r->data.categories.size(), 6u);
  EXPECT_EQ(r->data.categories[0].name, "EDH");
  EXPECT_EQ(r->data.categories[5].name, "SDH");
  EXPECT_EQ(r->data.categories[5].id, 5);
  ASSERT_EQ(r->skipped.size(), 2u);
  EXPECT_EQ(r->skipped[0].file_name, "notes.txt");
  EXPECT_EQ(r->skipped[1].file_name, "broken.png");
  EXPECT_NE(r->skipped[1].reason.find("broken.png"), std::string::npos);
}

TEST(annotate_folder, output_does_not_depend_on_the_thread_count) {
  testing::temp_dir dir;
  for (int i = 0; i < 40; ++i)
    testing::write_test_image(dir / ("1_" + std::to_string(i) + ".png"), 8 + i, 8);
  auto one = annotate_folder(dir.path(), {1, nullptr});
  auto many = annotate_folder(dir.path(), {4, nullptr});
  ASSERT_TRUE(one && many);
  EXPECT_EQ(coco::to_json(one->data), coco::to_json(many->data));
}

TEST(annotate_folder, an_empty_folder_gives_zero_images_and_a_missing_one_an_error) {
  testing::temp_dir dir;
  auto empty = annotate_folder(dir.path());
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->data.images.empty());
  auto missing = annotate_folder(dir / "absent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::error_code::not_found);
}

}  // namespace
}  // namespace ctprep::pipeline
