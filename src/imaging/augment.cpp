#include "ctprep/imaging/augment.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ctprep/imaging/codec.hpp"
#include "ctprep/imaging/header.hpp"
#include "imaging/codec_internal.hpp"

namespace ctprep::imaging {
namespace {

using affine = std::array<double, 6>;

// Horizontal flip p0.5 (as the original's albumentations pipeline).
constexpr double p_flip = 0.5, p_ssr = 0.8, p_crop = 0.6, p_bc = 0.6, p_clahe = 0.3,
                 p_dropout = 0.4;
constexpr double shift_limit = 0.1, scale_limit = 0.2, rotate_limit = 20.0;
constexpr double brightness_limit = 0.2, contrast_limit = 0.2;

// a ∘ b: first b, then a.
affine compose(const affine& a, const affine& b) {
  return {a[0] * b[0] + a[1] * b[3], a[0] * b[1] + a[1] * b[4], a[0] * b[2] + a[1] * b[5] + a[2],
          a[3] * b[0] + a[4] * b[3], a[3] * b[1] + a[4] * b[4], a[3] * b[2] + a[4] * b[5] + a[5]};
}

// A matrix on continuous coordinates (the boxes' convention: pixel i spans [i, i+1]) as
// the matrix on pixel indices that cv::warpAffine applies (pixel i's centre is i + 0.5):
// x' = A x + t on centres becomes x_i' = A x_i + (A (0.5, 0.5) + t - 0.5). Using the box
// matrix on indices directly shifted a flipped image by one pixel against its boxes and
// left a black first column.
affine to_pixel_indices(const affine& m) {
  return {m[0], m[1], m[2] + 0.5 * (m[0] + m[1]) - 0.5,
          m[3], m[4], m[5] + 0.5 * (m[3] + m[4]) - 0.5};
}

void warp(const cv::Mat& src, cv::Mat& dst, const affine& continuous) {
  const affine p = to_pixel_indices(continuous);
  // A horizontal flip alone: warpAffine reads every pixel at a whole source position
  // (zero sub-pixel weights), so its result is cv::flip's, at a fraction of the cost.
  if (p == affine{-1, 0, src.cols - 1.0, 0, 1, 0}) {
    cv::flip(src, dst, 1);
    return;
  }
  const cv::Mat mm = (cv::Mat_<double>(2, 3) << p[0], p[1], p[2], p[3], p[4], p[5]);
  cv::warpAffine(src, dst, mm, src.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 cv::Scalar::all(0));
}

// The whole pipeline from `src` into `img` (gray or 3-channel; `bgr` says the channel
// order for CLAHE). The geometric steps (flip, shift-scale-rotate, crop resized back)
// are drawn and applied to the boxes one by one, in order, but their pixels are moved by
// one warp of the composed matrix: one interpolation instead of three, and one pass.
void augment_mat(const cv::Mat& src, cv::Mat& img, std::vector<tracked_box>& boxes,
                 core::rng& random, bool bgr) {
  const int w = src.cols, h = src.rows;
  affine m = {1, 0, 0, 0, 1, 0};
  bool moved = false;
  if (random.chance(p_flip)) {
    const affine flip = {-1, 0, static_cast<double>(w), 0, 1, 0};
    m = compose(flip, m);
    moved = true;
    move_boxes(boxes, flip, w, h);
  }
  if (random.chance(p_ssr)) {
    const double angle = random.uniform(-rotate_limit, rotate_limit);
    const double scale = 1.0 + random.uniform(-scale_limit, scale_limit);
    const double dx = random.uniform(-shift_limit, shift_limit);
    const double dy = random.uniform(-shift_limit, shift_limit);
    const double a = angle * M_PI / 180.0;
    const double alpha = scale * std::cos(a), beta = scale * std::sin(a);
    const double cx = w / 2.0, cy = h / 2.0;
    // cv::getRotationMatrix2D about the image centre (w/2, h/2 in continuous coordinates),
    // then the shift in pixels.
    const affine ssr = {alpha, beta,  (1 - alpha) * cx - beta * cy + dx * w,
                        -beta, alpha, beta * cx + (1 - alpha) * cy + dy * h};
    m = compose(ssr, m);
    moved = true;
    move_boxes(boxes, ssr, w, h);
  }
  if (random.chance(p_crop)) {
    // A crop holding every box (their union), resized back to the image size.
    double ux0 = w, uy0 = h, ux1 = 0, uy1 = 0;
    bool any = false;
    for (const auto& b : boxes) {
      if (b.visible <= 0) continue;
      any = true;
      ux0 = std::min(ux0, b.box.bbox.x);
      uy0 = std::min(uy0, b.box.bbox.y);
      ux1 = std::max(ux1, b.box.bbox.x + b.box.bbox.w);
      uy1 = std::max(uy1, b.box.bbox.y + b.box.bbox.h);
    }
    if (!any) {  // no box: any crop keeping at least half of each side
      ux0 = w * 0.25, ux1 = w * 0.75, uy0 = h * 0.25, uy1 = h * 0.75;
    }
    const int x0 = static_cast<int>(std::floor(random.uniform(0, std::max(0.0, ux0))));
    const int y0 = static_cast<int>(std::floor(random.uniform(0, std::max(0.0, uy0))));
    const int x1 =
        std::min(w, static_cast<int>(std::ceil(ux1 + random.uniform(0, std::max(0.0, w - ux1)))));
    const int y1 =
        std::min(h, static_cast<int>(std::ceil(uy1 + random.uniform(0, std::max(0.0, h - uy1)))));
    if (x1 - x0 >= 2 && y1 - y0 >= 2 && (x0 > 0 || y0 > 0 || x1 < w || y1 < h)) {
      const double sx = static_cast<double>(w) / (x1 - x0), sy = static_cast<double>(h) / (y1 - y0);
      // On pixel indices this is cv::resize's x' = (x - x0 + 0.5) * sx - 0.5.
      const affine crop = {sx, 0, -x0 * sx, 0, sy, -y0 * sy};
      m = compose(crop, m);
      moved = true;
      move_boxes(boxes, crop, w, h);
    }
  }
  if (moved) {
    warp(src, img, m);
  } else {
    src.copyTo(img);
  }
  if (random.chance(p_bc)) {
    const double alpha = 1.0 + random.uniform(-contrast_limit, contrast_limit);
    const double beta = random.uniform(-brightness_limit, brightness_limit) * 255.0;
    thread_local cv::Mat lut(1, 256, CV_8U);
    for (int i = 0; i < 256; ++i)
      lut.at<std::uint8_t>(i) = cv::saturate_cast<std::uint8_t>(alpha * i + beta);
    cv::LUT(img, lut, img);
  }
  if (random.chance(p_clahe)) {
    thread_local cv::Ptr<cv::CLAHE> clahe = cv::createCLAHE(4.0, cv::Size(8, 8));
    if (img.channels() == 1) {
      thread_local cv::Mat out;
      clahe->apply(img, out);
      cv::swap(img, out);  // buffers trade places: no copy
    } else {
      cv::Mat lab;
      cv::cvtColor(img, lab, bgr ? cv::COLOR_BGR2Lab : cv::COLOR_RGB2Lab);
      std::vector<cv::Mat> planes;
      cv::split(lab, planes);
      cv::Mat l;
      clahe->apply(planes[0], l);
      planes[0] = l;
      cv::merge(planes, lab);
      cv::cvtColor(lab, img, bgr ? cv::COLOR_Lab2BGR : cv::COLOR_Lab2RGB);
    }
  }
  if (random.chance(p_dropout)) {
    const auto holes = random.between(4, 12);
    for (std::int64_t k = 0; k < holes; ++k) {
      const int hh = static_cast<int>(random.between(8, 24)),
                hw = static_cast<int>(random.between(8, 24));
      const int y = static_cast<int>(random.between(0, std::max(0, h - hh)));
      const int x = static_cast<int>(random.between(0, std::max(0, w - hw)));
      img(cv::Rect(x, y, std::min(hw, w - x), std::min(hh, h - y))).setTo(cv::Scalar::all(0));
    }
  }
}

// True when the three channels are equal: a gray slice stored as colour (Roboflow
// exports are RGB JPEGs of gray CT), which is then processed as gray — a third of the work.
bool is_gray_in_colour(const cv::Mat& bgr) {
  for (int y = 0; y < bgr.rows; ++y) {
    const auto* p = bgr.ptr<std::uint8_t>(y);
    for (int x = 0; x < bgr.cols; ++x, p += 3) {
      if (p[0] != p[1] || p[1] != p[2]) return false;
    }
  }
  return true;
}

std::vector<tracked_box> track(const std::vector<labeled_box>& boxes) {
  std::vector<tracked_box> t;
  t.reserve(boxes.size());
  for (const auto& b : boxes) t.push_back({b, 1.0});
  return t;
}

std::vector<labeled_box> untrack(const std::vector<tracked_box>& boxes) {
  std::vector<labeled_box> out;
  out.reserve(boxes.size());
  for (const auto& b : boxes) out.push_back(b.box);
  return out;
}

}  // namespace

void move_boxes(std::vector<tracked_box>& boxes, const std::array<double, 6>& m, int width,
                int height) {
  for (auto& t : boxes) {
    if (t.visible <= 0) continue;
    auto& b = t.box.bbox;
    const double xs[4] = {b.x, b.x + b.w, b.x, b.x + b.w};
    const double ys[4] = {b.y, b.y, b.y + b.h, b.y + b.h};
    double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
    for (int k = 0; k < 4; ++k) {
      const double x = m[0] * xs[k] + m[1] * ys[k] + m[2];
      const double y = m[3] * xs[k] + m[4] * ys[k] + m[5];
      x0 = std::min(x0, x), x1 = std::max(x1, x);
      y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
    const double full = (x1 - x0) * (y1 - y0);
    const double cx0 = std::clamp(x0, 0.0, static_cast<double>(width));
    const double cx1 = std::clamp(x1, 0.0, static_cast<double>(width));
    const double cy0 = std::clamp(y0, 0.0, static_cast<double>(height));
    const double cy1 = std::clamp(y1, 0.0, static_cast<double>(height));
    const double kept = (cx1 - cx0) * (cy1 - cy0);
    if (full <= 0 || kept <= 0) {
      t.visible = 0;
      b = {cx0, cy0, 0, 0};
      continue;
    }
    t.visible *= kept / full;
    b = {cx0, cy0, cx1 - cx0, cy1 - cy0};
  }
}

std::size_t filter_boxes(std::vector<tracked_box>& boxes) {
  const auto before = boxes.size();
  std::erase_if(boxes, [](const tracked_box& t) {
    const auto& b = t.box.bbox;
    return t.visible < min_visibility || b.w < 1.0 || b.h < 1.0 || b.w * b.h < min_box_area;
  });
  return before - boxes.size();
}

image_u8 warp_image(const image_u8& image, const std::array<double, 6>& m) {
  const cv::Mat view(image.height, image.width, CV_8UC(image.channels),
                     const_cast<std::uint8_t*>(image.pixels.data()));
  cv::Mat moved;
  warp(view, moved, m);
  image_u8 out{moved.cols, moved.rows, moved.channels(), {}};
  out.pixels.assign(moved.data, moved.data + moved.total() * moved.elemSize());
  return out;
}

augmented_image augment(const image_u8& image, const std::vector<labeled_box>& boxes,
                        core::rng& random) {
  cv::Mat view(image.height, image.width, CV_8UC(image.channels),
               const_cast<std::uint8_t*>(image.pixels.data()));
  cv::Mat img;
  auto tracked = track(boxes);
  augment_mat(view, img, tracked, random, false);
  augmented_image out;
  out.dropped_boxes = filter_boxes(tracked);
  out.boxes = untrack(tracked);
  out.image = {img.cols, img.rows, img.channels(), {}};
  out.image.pixels.assign(img.data, img.data + img.total() * img.elemSize());
  return out;
}

namespace {

// The source to augment: gray when its content is gray (`stored_as_colour` says whether
// the file had three channels), otherwise BGR as OpenCV decodes it.
struct source_image {
  cv::Mat pixels;
  image_u8 owner;  // the buffer `pixels` points into, when decoded by our own paths
  bool stored_as_colour = false;
};

core::result<source_image> decode_source(std::string_view encoded, std::string_view origin) {
  source_image src;
  // Fast paths: a gray JPEG (or an RGB one of gray CT, decoded as its Y plane) and an
  // 8-bit gray PNG, without OpenCV's colour decode and gray check.
  auto header = parse_image_header(encoded, origin);
  if (header && header->format == image_format::jpeg) {
    auto gray = detail::decode_jpeg_gray(encoded, origin);
    if (!gray) return tl::unexpected(gray.error());
    if (*gray) {
      src.owner = std::move(**gray);
      src.stored_as_colour = header->channels != 1;
    }
  } else if (header && header->format == image_format::png) {
    auto png = detail::decode_png_8bit(encoded, origin);
    if (!png) return tl::unexpected(png.error());
    if (*png && (*png)->channels == 1) src.owner = std::move(**png);
  }
  if (!src.owner.pixels.empty()) {
    src.pixels = cv::Mat(src.owner.height, src.owner.width, CV_8UC1, src.owner.pixels.data());
    return src;
  }
  try {
    const cv::Mat raw(1, static_cast<int>(encoded.size()), CV_8UC1,
                      const_cast<char*>(encoded.data()));
    src.pixels = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return core::fail(core::error_code::bad_image, fmt::format("'{}': {}", origin, e.what()));
  }
  cv::Mat& m = src.pixels;
  if (m.empty()) {
    return core::fail(core::error_code::bad_image, fmt::format("'{}' cannot be decoded", origin));
  }
  if (m.depth() != CV_8U) m.convertTo(m, CV_8U, m.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
  if (m.channels() == 4)
    cv::cvtColor(m, m, cv::COLOR_BGRA2BGR);
  else if (m.channels() == 2)
    cv::extractChannel(m, m, 0);
  if (m.channels() == 3 && is_gray_in_colour(m)) {
    cv::extractChannel(m, m, 0);
    src.stored_as_colour = true;
  }
  return src;
}

// One version's bytes. A gray image of a colour file is written as colour again (the
// output keeps the input's channels), as a JPEG straight from the gray plane.
core::result<std::string> encode_version(const cv::Mat& img, bool as_colour, encoding format,
                                         int jpeg_quality, std::string_view origin) {
  if (format == encoding::jpeg && img.channels() == 1) {
    return detail::encode_jpeg_gray(img.data, img.cols, img.rows, img.step[0], jpeg_quality,
                                    as_colour);
  }
  if (format == encoding::png && img.channels() == 1) {  // as encode_png_fast
    return detail::encode_png_sub(img.data, img.cols, img.rows, img.step[0], 1, as_colour);
  }
  // Colour content: OpenCV's defaults (zlib level 1, Z_RLE, the SUB filter on every row).
  const std::vector<int> params = format == encoding::png
                                      ? std::vector<int>{}
                                      : std::vector<int>{cv::IMWRITE_JPEG_QUALITY, jpeg_quality};
  const char* ext = format == encoding::png ? ".png" : ".jpg";
  thread_local cv::Mat colour;
  thread_local std::vector<std::uint8_t> buffer;
  try {
    if (as_colour && img.channels() == 1) cv::cvtColor(img, colour, cv::COLOR_GRAY2BGR);
    if (!cv::imencode(ext, as_colour && img.channels() == 1 ? colour : img, buffer, params)) {
      return core::fail(core::error_code::internal,
                        fmt::format("{} encoder failed for '{}'", ext, origin));
    }
  } catch (const cv::Exception& ex) {
    return core::fail(core::error_code::internal,
                      fmt::format("encoding '{}': {}", origin, ex.what()));
  }
  return std::string(buffer.begin(), buffer.end());
}

}  // namespace

core::result<std::vector<encoded_version>> augment_encoded(std::string_view encoded,
                                                           std::string_view origin,
                                                           const std::vector<labeled_box>& boxes,
                                                           std::uint64_t seed, std::string_view key,
                                                           int first, int last, encoding format,
                                                           int jpeg_quality) {
  auto src = decode_source(encoded, origin);
  if (!src) return tl::unexpected(src.error());
  std::vector<encoded_version> out;
  for (int v = first; v <= last; ++v) {
    auto random = core::rng::for_key(seed, key, static_cast<std::uint64_t>(v));
    thread_local cv::Mat img;
    auto tracked = track(boxes);
    augment_mat(src->pixels, img, tracked, random, true);
    encoded_version e;
    e.version = v;
    e.dropped_boxes = filter_boxes(tracked);
    e.boxes = untrack(tracked);
    if (!boxes.empty() && e.boxes.empty()) {
      e.dropped = true;  // never a wrong negative
      out.push_back(std::move(e));
      continue;
    }
    auto bytes = encode_version(img, src->stored_as_colour, format, jpeg_quality, origin);
    if (!bytes) return tl::unexpected(bytes.error());
    e.bytes = std::move(*bytes);
    out.push_back(std::move(e));
  }
  return out;
}

void use_single_thread() {
  cv::setNumThreads(1);
}

}  // namespace ctprep::imaging
