#include "ctprep/imaging/thumbnail.hpp"

#include <gtest/gtest.h>

namespace ctprep::imaging {
namespace {

image_u8 gray(int w, int h, std::uint8_t v) {
  return make_image(w, h, 1, v);
}

std::array<int, 3> pixel(const image_u8& im, int x, int y) {
  const auto* p = im.row(y) + x * 3;
  return {p[0], p[1], p[2]};
}

TEST(thumbnail, scales_the_longer_side_to_the_limit_keeping_the_aspect) {
  auto t = make_thumbnail(gray(512, 256, 100), 176, {});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->width, 176);
  EXPECT_EQ(t->height, 88);
  EXPECT_EQ(t->channels, 3);
  EXPECT_EQ(pixel(*t, 50, 40), (std::array<int, 3>{100, 100, 100}));
}

TEST(thumbnail, never_enlarges_a_small_image) {
  auto t = make_thumbnail(gray(64, 48, 7), 176, {});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->width, 64);
  EXPECT_EQ(t->height, 48);
}

TEST(thumbnail, draws_boxes_in_their_colour_at_the_thumbnail_scale) {
  const labelled_box box{100, 100, 200, 100, "", 255, 0, 0};
  auto t = make_thumbnail(gray(400, 400, 0), 200, std::span(&box, 1));
  ASSERT_TRUE(t);
  // Box at half scale: x 50..149, y 50..99.
  EXPECT_EQ(pixel(*t, 50, 75), (std::array<int, 3>{255, 0, 0}));
  EXPECT_EQ(pixel(*t, 149, 75), (std::array<int, 3>{255, 0, 0}));
  EXPECT_EQ(pixel(*t, 100, 50), (std::array<int, 3>{255, 0, 0}));
  EXPECT_EQ(pixel(*t, 100, 75), (std::array<int, 3>{0, 0, 0}));  // inside stays
  EXPECT_EQ(pixel(*t, 40, 75), (std::array<int, 3>{0, 0, 0}));
}

TEST(thumbnail, labels_are_drawn_and_pixels_are_deterministic) {
  const labelled_box boxes[] = {{20, 60, 60, 40, "IPH", 225, 59, 59},
                                {0, 0, 30, 30, "SAH", 44, 160, 90}};
  auto a = make_thumbnail(gray(200, 200, 60), 200, boxes);
  auto b = make_thumbnail(gray(200, 200, 60), 200, boxes);
  auto plain = make_thumbnail(gray(200, 200, 60), 200, std::span(boxes, 1));
  ASSERT_TRUE(a && b && plain);
  EXPECT_EQ(a->pixels, b->pixels);
  EXPECT_NE(a->pixels, plain->pixels);
  // The tag above the IPH box is filled with its colour.
  int tag_pixels = 0;
  for (int y = 40; y < 60; ++y) {
    for (int x = 20; x < 40; ++x) tag_pixels += pixel(*a, x, y) == std::array<int, 3>{225, 59, 59};
  }
  EXPECT_GT(tag_pixels, 20);
}

TEST(thumbnail, boxes_outside_the_image_are_clipped_not_fatal) {
  const labelled_box box{-50, -50, 1000, 1000, "X", 0, 255, 0};
  auto t = make_thumbnail(gray(100, 100, 0), 100, std::span(&box, 1));
  ASSERT_TRUE(t);
  EXPECT_EQ(pixel(*t, 0, 50), (std::array<int, 3>{0, 255, 0}));
}

TEST(thumbnail, rejects_empty_images_and_tiny_sides) {
  EXPECT_EQ(make_thumbnail(image_u8{}, 100, {}).error().code, core::error_code::bad_argument);
  image_u8 broken{10, 10, 1, {}};
  EXPECT_FALSE(make_thumbnail(broken, 100, {}));
  EXPECT_FALSE(make_thumbnail(gray(10, 10, 0), 4, {}));
}

}  // namespace
}  // namespace ctprep::imaging
