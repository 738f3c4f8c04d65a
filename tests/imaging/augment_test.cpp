#include "ctprep/imaging/augment.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "ctprep/core/files.hpp"
#include "ctprep/core/rng.hpp"

namespace ctprep::imaging {
namespace {

TEST(augment_boxes, rotation_gives_the_hull_of_the_rotated_corners) {
  // 90° about the centre of a 100×100 image: (x, y) -> (y, 100 - x).
  std::vector<tracked_box> boxes = {{{2, {10, 20, 30, 10}}, 1.0}};
  move_boxes(boxes, {0, 1, 0, -1, 0, 100}, 100, 100);
  EXPECT_NEAR(boxes[0].box.bbox.x, 20, 1e-9);
  EXPECT_NEAR(boxes[0].box.bbox.y, 60, 1e-9);
  EXPECT_NEAR(boxes[0].box.bbox.w, 10, 1e-9);
  EXPECT_NEAR(boxes[0].box.bbox.h, 30, 1e-9);
  EXPECT_DOUBLE_EQ(boxes[0].visible, 1.0);
  // 45°: a 20×20 square becomes a hull of side 20·√2.
  const double c = std::cos(M_PI / 4), s = std::sin(M_PI / 4);
  std::vector<tracked_box> sq = {{{0, {40, 40, 20, 20}}, 1.0}};
  move_boxes(sq, {c, s, 50 - 50 * c - 50 * s, -s, c, 50 + 50 * s - 50 * c}, 100, 100);
  EXPECT_NEAR(sq[0].box.bbox.w, 20 * std::sqrt(2.0), 1e-9);
  EXPECT_NEAR(sq[0].box.bbox.x + sq[0].box.bbox.w / 2, 50, 1e-9);
}

TEST(augment_boxes, clipping_tracks_visibility_and_the_filter_drops_by_rule) {
  // Shift right by 80: a 40×40 box at x=50 keeps 10/40 of its width inside 100 px.
  std::vector<tracked_box> boxes = {
      {{1, {50, 10, 40, 40}}, 1.0}, {{1, {0, 50, 40, 40}}, 1.0}, {{1, {0, 0, 15, 15}}, 1.0}};
  move_boxes(boxes, {1, 0, 40, 0, 1, 0}, 100, 100);
  EXPECT_NEAR(boxes[0].visible, 0.25, 1e-12);
  EXPECT_EQ(boxes[0].box.bbox, (core::box{90, 10, 10, 40}));
  EXPECT_EQ(boxes[1].box.bbox, (core::box{40, 50, 40, 40}));
  EXPECT_EQ(filter_boxes(boxes), 2u);  // 25% visible; 225 px² < 400
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_EQ(boxes[0].box.bbox, (core::box{40, 50, 40, 40}));
  // A box pushed wholly outside has no area left.
  std::vector<tracked_box> out = {{{1, {10, 10, 20, 20}}, 1.0}};
  move_boxes(out, {1, 0, 500, 0, 1, 0}, 100, 100);
  EXPECT_EQ(out[0].visible, 0.0);
  EXPECT_EQ(filter_boxes(out), 1u);
  // Exactly 30% visible and exactly 400 px² are kept.
  std::vector<tracked_box> edge = {{{1, {0, 0, 20, 20}}, 0.3}};
  EXPECT_EQ(filter_boxes(edge), 0u);
}

image_u8 test_image(int n) {
  auto im = make_image(n, n, 1);
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) im.row(y)[x] = static_cast<std::uint8_t>((x * 7 + y * 3) & 0xFF);
  }
  return im;
}

TEST(augment_pixels, a_flip_sends_column_x_to_w_minus_1_minus_x_with_no_black_column) {
  auto im = make_image(7, 3, 1);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 7; ++x) im.row(y)[x] = static_cast<std::uint8_t>(10 + 30 * x + y);
  const auto flipped = warp_image(im, {-1, 0, 7, 0, 1, 0});
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 7; ++x) EXPECT_EQ(flipped.row(y)[x], im.row(y)[6 - x]) << x << "," << y;
  // A quarter turn of a square, (x, y) -> (y, w - x): pixel (i, j) lands on (j, w-1-i).
  auto sq = make_image(5, 5, 1);
  for (std::size_t k = 0; k < sq.pixels.size(); ++k)
    sq.pixels[k] = static_cast<std::uint8_t>(k + 1);
  const auto turned = warp_image(sq, {0, 1, 0, -1, 0, 5});
  for (int j = 0; j < 5; ++j)
    for (int i = 0; i < 5; ++i) EXPECT_EQ(turned.row(4 - i)[j], sq.row(j)[i]);
}

TEST(augment_pixels, a_rotated_box_and_the_pixels_it_marks_stay_together) {
  // A white 30x20 rectangle exactly under its box, moved by a 30 degree rotation with
  // scale 1.2 about the centre plus a shift: the intensity centroid of the warped image
  // is the centre of the moved box. (Warping pixel indices with the box matrix put them
  // 0.3 px apart.)
  auto im = make_image(100, 100, 1);
  for (int y = 40; y < 60; ++y)
    for (int x = 35; x < 65; ++x) im.row(y)[x] = 255;
  const double a = 1.2 * std::cos(M_PI / 6), b = 1.2 * std::sin(M_PI / 6);
  const std::array<double, 6> m = {a,  b, (1 - a) * 50 - b * 50 + 4,
                                   -b, a, b * 50 + (1 - a) * 50 - 3};
  std::vector<tracked_box> boxes = {{{1, {35, 40, 30, 20}}, 1.0}};
  move_boxes(boxes, m, 100, 100);
  const auto moved = warp_image(im, m);
  double mass = 0, cx = 0, cy = 0;
  for (int y = 0; y < 100; ++y) {
    for (int x = 0; x < 100; ++x) {
      const double v = moved.row(y)[x];
      mass += v, cx += v * (x + 0.5), cy += v * (y + 0.5);
    }
  }
  const auto& box = boxes[0].box.bbox;
  EXPECT_NEAR(cx / mass, box.x + box.w / 2, 0.05);
  EXPECT_NEAR(cy / mass, box.y + box.h / 2, 0.05);
  EXPECT_NEAR(mass / 255.0, 30 * 20 * 1.2 * 1.2, 30 * 20 * 0.02);  // area scales by s^2
}

TEST(augment, is_reproducible_for_a_key_and_boxes_stay_inside) {
  const auto im = test_image(128);
  const std::vector<labeled_box> boxes = {{2, {30, 30, 40, 40}}, {4, {80, 10, 30, 60}}};
  for (std::uint64_t v = 1; v < 30; ++v) {
    auto r1 = core::rng::for_key(42, "a.png", v), r2 = core::rng::for_key(42, "a.png", v);
    auto a = augment(im, boxes, r1);
    auto b = augment(im, boxes, r2);
    EXPECT_EQ(a.image.pixels, b.image.pixels);
    EXPECT_EQ(a.boxes, b.boxes);
    EXPECT_EQ(a.image.width, 128);
    EXPECT_EQ(a.boxes.size() + a.dropped_boxes, boxes.size());
    for (const auto& bx : a.boxes) {
      EXPECT_GE(bx.bbox.x, 0);
      EXPECT_GE(bx.bbox.y, 0);
      EXPECT_LE(bx.bbox.x + bx.bbox.w, 128 + 1e-9);
      EXPECT_LE(bx.bbox.y + bx.bbox.h, 128 + 1e-9);
      EXPECT_GE(bx.bbox.w * bx.bbox.h, min_box_area);
    }
  }
  auto r1 = core::rng::for_key(42, "a.png", 1), r2 = core::rng::for_key(42, "a.png", 2);
  EXPECT_NE(augment(im, boxes, r1).image.pixels, augment(im, boxes, r2).image.pixels);
}

TEST(augment, encoded_versions_are_identical_across_calls_and_drop_images_losing_every_box) {
  const auto png = encode_png(test_image(96));
  ASSERT_TRUE(png);
  const std::vector<labeled_box> boxes = {{3, {20, 20, 50, 50}}};
  auto a = augment_encoded(*png, "a.png", boxes, 7, "a.png", 1, 4, encoding::png, 95);
  auto b = augment_encoded(*png, "a.png", boxes, 7, "a.png", 1, 4, encoding::png, 95);
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->size(), 4u);
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_EQ((*a)[k].version, static_cast<int>(k) + 1);
    EXPECT_EQ((*a)[k].bytes, (*b)[k].bytes);
    auto decoded = decode_image((*a)[k].bytes, "v");
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->width, 96);
  }
  // A 15×15 box is under 400 px² unless a crop zooms in: the versions that lose it are
  // dropped (no bytes), never kept as wrong negatives.
  auto tiny =
      augment_encoded(*png, "a.png", {{3, {20, 20, 15, 15}}}, 7, "a.png", 1, 40, encoding::png, 95);
  ASSERT_TRUE(tiny);
  std::size_t dropped = 0;
  for (const auto& v : *tiny) {
    if (v.dropped) {
      ++dropped;
      EXPECT_TRUE(v.bytes.empty());
      EXPECT_TRUE(v.boxes.empty());
    } else {
      ASSERT_EQ(v.boxes.size(), 1u);
      EXPECT_GE(v.boxes[0].bbox.w * v.boxes[0].bbox.h, min_box_area);
    }
  }
  EXPECT_GT(dropped, 5u);
  EXPECT_LT(dropped, 40u);
  auto broken = augment_encoded("not an image", "x.png", boxes, 7, "x", 1, 1, encoding::png, 95);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, core::error_code::bad_image);
}

}  // namespace
}  // namespace ctprep::imaging
