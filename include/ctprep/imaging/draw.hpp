// Drawing on 8-bit RGB images (lines, rectangles, text) and two small chart renderers
// built on them, for the plots reports write as PNG (PR curves, heat maps). Pixels are
// deterministic for the same input: no anti-aliasing randomness, one built-in font.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/imaging/codec.hpp"

namespace ctprep::imaging {

struct rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const rgb&, const rgb&) = default;
};

// All take an RGB image (channels == 3); coordinates in pixels, clipped to the image.
void fill_rect(image_u8& image, int x0, int y0, int x1, int y1, rgb color);  // inclusive
void draw_rect(image_u8& image, int x0, int y0, int x1, int y1, rgb color, int thickness = 1);
void draw_line(image_u8& image, int x0, int y0, int x1, int y1, rgb color, int thickness = 1);
// Text with its baseline-left corner at (x, y); `scale` 0.5 gives ~10 px tall capitals.
void draw_text(image_u8& image, std::string_view text, int x, int y, double scale, rgb color,
               int thickness = 1);
// Width and height (above the baseline) of the text as draw_text would draw it.
[[nodiscard]] std::pair<int, int> text_size(std::string_view text, double scale, int thickness = 1);

// A distinct colour for series i (a fixed, colour-blind-friendly palette).
[[nodiscard]] rgb palette_color(std::size_t i);

struct chart_series {
  std::string label;
  std::vector<double> x, y;
  rgb color;
};

struct line_chart {
  std::string title, x_label, y_label;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  std::vector<chart_series> series;  // drawn in order; a legend lists their labels
  int width = 640, height = 480;
};
[[nodiscard]] image_u8 render_line_chart(const line_chart& chart);

struct heat_map {
  std::string title, x_label, y_label;
  std::vector<std::string> row_labels, column_labels;
  std::vector<double> values;          // row-major; the colour scale is per row (row share)
  std::vector<std::string> cell_text;  // row-major, drawn in each cell (may be empty)
  int cell = 64;                       // cell size in pixels
};
[[nodiscard]] image_u8 render_heat_map(const heat_map& map);

}  // namespace ctprep::imaging
