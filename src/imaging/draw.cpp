#include "ctprep/imaging/draw.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace ctprep::imaging {
namespace {

// A cv::Mat header over our RGB pixels: colours are passed in R, G, B channel order.
cv::Mat view(image_u8& image) {
  return cv::Mat(image.height, image.width, CV_8UC3, image.pixels.data());
}
cv::Scalar scalar(rgb c) {
  return cv::Scalar(c.r, c.g, c.b);
}
constexpr int font = cv::FONT_HERSHEY_SIMPLEX;

const rgb black{0, 0, 0};
const rgb grid{225, 225, 225};
const rgb white{255, 255, 255};

std::string tick_label(double v) {
  std::string s = fmt::format("{:.2f}", v);
  return s;
}

}  // namespace

void fill_rect(image_u8& image, int x0, int y0, int x1, int y1, rgb color) {
  auto m = view(image);
  cv::rectangle(m, cv::Point(x0, y0), cv::Point(x1, y1), scalar(color), cv::FILLED, cv::LINE_8);
}

void draw_rect(image_u8& image, int x0, int y0, int x1, int y1, rgb color, int thickness) {
  auto m = view(image);
  cv::rectangle(m, cv::Point(x0, y0), cv::Point(x1, y1), scalar(color), thickness, cv::LINE_8);
}

void draw_line(image_u8& image, int x0, int y0, int x1, int y1, rgb color, int thickness) {
  auto m = view(image);
  cv::line(m, cv::Point(x0, y0), cv::Point(x1, y1), scalar(color), thickness, cv::LINE_AA);
}

void draw_text(image_u8& image, std::string_view text, int x, int y, double scale, rgb color,
               int thickness) {
  auto m = view(image);
  cv::putText(m, std::string(text), cv::Point(x, y), font, scale, scalar(color), thickness,
              cv::LINE_AA);
}

std::pair<int, int> text_size(std::string_view text, double scale, int thickness) {
  int baseline = 0;
  const auto s = cv::getTextSize(std::string(text), font, scale, thickness, &baseline);
  return {s.width, s.height};
}

rgb palette_color(std::size_t i) {
  // Okabe-Ito, without yellow (poor on white).
  static const rgb colors[] = {{0, 114, 178},  {213, 94, 0},  {0, 158, 115}, {204, 121, 167},
                               {86, 180, 233}, {230, 159, 0}, {0, 0, 0},     {120, 120, 120}};
  return colors[i % std::size(colors)];
}

image_u8 render_line_chart(const line_chart& chart) {
  image_u8 image = make_image(chart.width, chart.height, 3, 255);
  const int left = 70, right = chart.width - 20, top = 52, bottom = chart.height - 55;
  const auto px = [&](double x) {
    return left + static_cast<int>(std::lround((x - chart.x_min) / (chart.x_max - chart.x_min) *
                                               (right - left)));
  };
  const auto py = [&](double y) {
    return bottom - static_cast<int>(std::lround((y - chart.y_min) / (chart.y_max - chart.y_min) *
                                                 (bottom - top)));
  };
  for (int i = 0; i <= 10; ++i) {
    const double f = i / 10.0;
    const double xv = chart.x_min + f * (chart.x_max - chart.x_min);
    const double yv = chart.y_min + f * (chart.y_max - chart.y_min);
    draw_line(image, px(xv), top, px(xv), bottom, grid);
    draw_line(image, left, py(yv), right, py(yv), grid);
    if (i % 2 == 0) {
      const auto xl = tick_label(xv);
      const auto [w, h] = text_size(xl, 0.4);
      draw_text(image, xl, px(xv) - w / 2, bottom + h + 8, 0.4, black);
      const auto yl = tick_label(yv);
      const auto [yw, yh] = text_size(yl, 0.4);
      draw_text(image, yl, left - yw - 6, py(yv) + yh / 2, 0.4, black);
    }
  }
  draw_rect(image, left, top, right, bottom, black);
  {
    const auto [w, h] = text_size(chart.title, 0.6);
    draw_text(image, chart.title, (chart.width - w) / 2, 24, 0.6, black);
    const auto [xw, xh] = text_size(chart.x_label, 0.5);
    draw_text(image, chart.x_label, (left + right - xw) / 2, chart.height - 12, 0.5, black);
    (void)h;
    (void)xh;
  }
  // The y label, written horizontally above the axis (putText cannot rotate).
  draw_text(image, chart.y_label, 8, top - 10, 0.45, black);
  for (const auto& s : chart.series) {
    for (std::size_t i = 1; i < std::min(s.x.size(), s.y.size()); ++i) {
      draw_line(image, px(s.x[i - 1]), py(s.y[i - 1]), px(s.x[i]), py(s.y[i]), s.color, 2);
    }
  }
  // Legend, bottom-left inside the plot (PR curves fall towards the bottom right).
  int y = bottom - 10 - static_cast<int>(chart.series.size()) * 18;
  for (const auto& s : chart.series) {
    y += 18;
    fill_rect(image, left + 10, y - 9, left + 28, y - 3, s.color);
    draw_text(image, s.label, left + 34, y, 0.45, black);
  }
  return image;
}

image_u8 render_heat_map(const heat_map& map) {
  const int rows = static_cast<int>(map.row_labels.size());
  const int cols = static_cast<int>(map.column_labels.size());
  int label_w = 0;
  for (const auto& l : map.row_labels) label_w = std::max(label_w, text_size(l, 0.5).first);
  const int left = label_w + 40, top = 80;
  const int width = left + cols * map.cell + 20, height = top + rows * map.cell + 50;
  image_u8 image = make_image(width, height, 3, 255);
  {
    const auto [w, h] = text_size(map.title, 0.6);
    draw_text(image, map.title, (width - w) / 2, 24, 0.6, black);
    (void)h;
    const auto [xw, xh] = text_size(map.x_label, 0.5);
    draw_text(image, map.x_label, left + (cols * map.cell - xw) / 2, 48, 0.5, black);
    (void)xh;
    draw_text(image, map.y_label, 6, height - 16, 0.5, black);
  }
  for (int r = 0; r < rows; ++r) {
    double row_sum = 0;
    for (int c = 0; c < cols; ++c) row_sum += map.values[static_cast<std::size_t>(r * cols + c)];
    for (int c = 0; c < cols; ++c) {
      const double v = map.values[static_cast<std::size_t>(r * cols + c)];
      const double share = row_sum > 0 ? v / row_sum : 0;
      // White to deep blue by the share of the row.
      const auto mix = [&](int from, int to) {
        return static_cast<std::uint8_t>(std::lround(from + (to - from) * share));
      };
      const rgb fill{mix(255, 8), mix(255, 48), mix(255, 107)};
      const int x0 = left + c * map.cell, y0 = top + r * map.cell;
      fill_rect(image, x0, y0, x0 + map.cell - 1, y0 + map.cell - 1, fill);
      draw_rect(image, x0, y0, x0 + map.cell - 1, y0 + map.cell - 1, grid);
      const auto idx = static_cast<std::size_t>(r * cols + c);
      if (idx < map.cell_text.size()) {
        const auto [w, h] = text_size(map.cell_text[idx], 0.45);
        draw_text(image, map.cell_text[idx], x0 + (map.cell - w) / 2, y0 + (map.cell + h) / 2, 0.45,
                  share > 0.5 ? white : black);
      }
    }
    const auto [w, h] = text_size(map.row_labels[static_cast<std::size_t>(r)], 0.5);
    draw_text(image, map.row_labels[static_cast<std::size_t>(r)], left - w - 8,
              top + r * map.cell + (map.cell + h) / 2, 0.5, black);
  }
  for (int c = 0; c < cols; ++c) {
    const auto& l = map.column_labels[static_cast<std::size_t>(c)];
    const auto [w, h] = text_size(l, 0.42);
    draw_text(image, l, left + c * map.cell + (map.cell - w) / 2, top - 8, 0.42, black);
    (void)h;
  }
  return image;
}

}  // namespace ctprep::imaging
