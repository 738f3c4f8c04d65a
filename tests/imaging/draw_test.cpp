#include "ctprep/imaging/draw.hpp"

#include <gtest/gtest.h>

#include "ctprep/core/rng.hpp"

namespace ctprep::imaging {
namespace {

rgb pixel(const image_u8& im, int x, int y) {
  const auto* p = im.row(y) + x * 3;
  return {p[0], p[1], p[2]};
}

TEST(imaging_draw, fill_rect_colours_exactly_the_inclusive_rectangle_in_rgb_order) {
  auto im = make_image(10, 8, 3, 255);
  fill_rect(im, 2, 3, 4, 5, {10, 20, 30});
  int coloured = 0;
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 10; ++x) coloured += pixel(im, x, y) == rgb{10, 20, 30} ? 1 : 0;
  }
  EXPECT_EQ(coloured, 9);
  EXPECT_EQ(pixel(im, 2, 3), (rgb{10, 20, 30}));
  EXPECT_EQ(pixel(im, 5, 5), (rgb{255, 255, 255}));
  // Clipped, not out of bounds.
  fill_rect(im, -5, -5, 100, 0, {1, 2, 3});
  EXPECT_EQ(pixel(im, 9, 0), (rgb{1, 2, 3}));
}

TEST(imaging_draw, text_is_drawn_and_measured) {
  auto im = make_image(120, 30, 3, 255);
  draw_text(im, "AP 0.5", 4, 20, 0.5, {0, 0, 0});
  const auto [w, h] = text_size("AP 0.5", 0.5);
  EXPECT_GT(w, 30);
  EXPECT_GT(h, 5);
  int dark = 0;
  for (int y = 0; y < 30; ++y) {
    for (int x = 0; x < 120; ++x) dark += pixel(im, x, y).r < 128 ? 1 : 0;
  }
  EXPECT_GT(dark, 20);
}

TEST(imaging_draw, charts_are_deterministic_and_sized) {
  line_chart c;
  c.title = "t";
  c.series.push_back({"a", {0, 0.5, 1}, {1, 0.5, 0}, palette_color(0)});
  const auto a = render_line_chart(c), b = render_line_chart(c);
  EXPECT_EQ(a.width, 640);
  EXPECT_EQ(a.height, 480);
  EXPECT_EQ(a.pixels, b.pixels);
  heat_map m;
  m.row_labels = m.column_labels = {"x", "y"};
  m.values = {3, 1, 0, 0};
  m.cell_text = {"3", "1", "0", "0"};
  const auto h = render_heat_map(m);
  EXPECT_EQ(h.channels, 3);
  EXPECT_GT(h.width, 2 * m.cell);
  EXPECT_EQ(h.pixels, render_heat_map(m).pixels);
}

}  // namespace
}  // namespace ctprep::imaging
