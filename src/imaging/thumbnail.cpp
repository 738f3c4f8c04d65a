#include "ctprep/imaging/thumbnail.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace ctprep::imaging {

core::result<image_u8> make_thumbnail(const image_u8& source, int max_side,
                                      std::span<const labelled_box> boxes) {
  if (source.width <= 0 || source.height <= 0 || (source.channels != 1 && source.channels != 3) ||
      source.pixels.size() != static_cast<std::size_t>(source.width) *
                                  static_cast<std::size_t>(source.height) *
                                  static_cast<std::size_t>(source.channels)) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("cannot make a thumbnail of a {}x{}x{} image", source.width,
                                  source.height, source.channels));
  }
  if (max_side < 8) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("thumbnail side {} is below 8 pixels", max_side));
  }
  const double scale =
      std::min(1.0, static_cast<double>(max_side) / std::max(source.width, source.height));
  const int w = std::max(1, static_cast<int>(std::lround(source.width * scale)));
  const int h = std::max(1, static_cast<int>(std::lround(source.height * scale)));

  const cv::Mat view(source.height, source.width, CV_8UC(source.channels),
                     const_cast<std::uint8_t*>(source.pixels.data()));
  cv::Mat small;
  if (w == source.width && h == source.height) {
    small = view.clone();
  } else {
    cv::resize(view, small, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  }
  cv::Mat rgb;
  if (small.channels() == 1) {
    cv::cvtColor(small, rgb, cv::COLOR_GRAY2RGB);
  } else {
    rgb = small;
  }

  const double sx = static_cast<double>(w) / source.width;
  const double sy = static_cast<double>(h) / source.height;
  const int thickness = std::max(w, h) >= 256 ? 2 : 1;
  constexpr double font_scale = 0.36;
  constexpr int font = cv::FONT_HERSHEY_SIMPLEX;
  for (const auto& b : boxes) {
    const cv::Scalar color(b.r, b.g, b.b);  // the Mat is RGB, so channel 0 is red
    const int x0 = std::clamp(static_cast<int>(std::floor(b.x * sx)), 0, w - 1);
    const int y0 = std::clamp(static_cast<int>(std::floor(b.y * sy)), 0, h - 1);
    const int x1 = std::clamp(static_cast<int>(std::ceil((b.x + b.w) * sx)) - 1, x0, w - 1);
    const int y1 = std::clamp(static_cast<int>(std::ceil((b.y + b.h) * sy)) - 1, y0, h - 1);
    cv::rectangle(rgb, cv::Point(x0, y0), cv::Point(x1, y1), color, thickness, cv::LINE_8);
    if (b.label.empty()) continue;
    int baseline = 0;
    const auto size = cv::getTextSize(b.label, font, font_scale, 1, &baseline);
    // The tag sits above the box, or inside it when the box touches the top edge.
    int ty = y0 - size.height - 4;
    if (ty < 0) ty = std::min(y0 + thickness, h - size.height - 4);
    const int tx = std::clamp(x0, 0, std::max(0, w - size.width - 4));
    cv::rectangle(rgb, cv::Point(tx, ty), cv::Point(tx + size.width + 3, ty + size.height + 3),
                  color, cv::FILLED, cv::LINE_8);
    const double luminance = 0.299 * b.r + 0.587 * b.g + 0.114 * b.b;
    const cv::Scalar ink = luminance > 150 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
    cv::putText(rgb, b.label, cv::Point(tx + 2, ty + size.height + 1), font, font_scale, ink, 1,
                cv::LINE_AA);
  }

  image_u8 out = make_image(w, h, 3);
  for (int y = 0; y < h; ++y) {
    std::copy_n(rgb.ptr<std::uint8_t>(y), static_cast<std::size_t>(w) * 3, out.row(y));
  }
  return out;
}

}  // namespace ctprep::imaging
