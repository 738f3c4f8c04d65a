// The "aggressive" augmentation of SPEC 2 (prepare [8/9]) with boxes that follow the
// pixels: horizontal flip p0.5; shift-scale-rotate (shift 0.1, scale 0.2, rotate 20°,
// constant 0 border) p0.8; bbox-safe random crop (resized back) p0.6; brightness and
// contrast ±0.2 p0.6; CLAHE clip 4.0 tile 8×8 p0.3; coarse dropout of 4–12 holes of
// 8–24 px p0.4. After a geometric step a box becomes the axis-aligned hull of its moved
// corners, clipped to the image; at the end a box that kept under 30% of its area or
// covers under 400 px² is dropped. All randomness comes from the caller's generator, so
// (seed, image, version) fixes the bytes whatever the thread count.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/dataset.hpp"
#include "ctprep/core/error.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/imaging/codec.hpp"

namespace ctprep::imaging {

struct labeled_box {
  std::int64_t category = 0;
  core::box bbox;
  friend bool operator==(const labeled_box&, const labeled_box&) = default;
};

inline constexpr double min_visibility = 0.3;
inline constexpr double min_box_area = 400.0;

// A box being moved through the pipeline: where it is now (clipped to the image) and
// the share of its area still inside the image.
struct tracked_box {
  labeled_box box;
  double visible = 1.0;
};

// Moves boxes by the 2×3 affine matrix m (x' = m0 x + m1 y + m2, y' = m3 x + m4 y + m5):
// each becomes the hull of its four moved corners, clipped to width×height, and its
// visible share is multiplied by clipped/unclipped area. Boxes left with no area get
// visible = 0.
void move_boxes(std::vector<tracked_box>& boxes, const std::array<double, 6>& m, int width,
                int height);

// Moves the pixels by the same matrix as move_boxes, on the same continuous coordinates
// (pixel i spans [i, i+1], so its centre is i + 0.5), bilinear, black outside: a box and
// the pixels it marks stay together. A horizontal flip {-1, 0, w, 0, 1, 0} sends column
// x to w - 1 - x exactly.
[[nodiscard]] image_u8 warp_image(const image_u8& image, const std::array<double, 6>& m);

// Keeps the boxes with visible >= min_visibility, area >= min_box_area and both sides
// >= 1 px; returns how many were dropped.
std::size_t filter_boxes(std::vector<tracked_box>& boxes);

struct augmented_image {
  image_u8 image;
  std::vector<labeled_box> boxes;  // kept boxes
  std::size_t dropped_boxes = 0;
};

// One augmented version of `image`: draws every choice from `random`.
[[nodiscard]] augmented_image augment(const image_u8& image, const std::vector<labeled_box>& boxes,
                                      core::rng& random);

enum class encoding { png, jpeg };

struct encoded_version {
  int version = 0;
  std::string bytes;  // empty when every box fell out (the version is not written)
  std::vector<labeled_box> boxes;
  std::size_t dropped_boxes = 0;
  bool dropped = false;  // the image had boxes and none survived
};

// Decodes `encoded` once and makes versions first..last (inclusive), each seeded by
// rng::for_key(seed, key, version), encoded as PNG (level 1) or JPEG (quality).
[[nodiscard]] core::result<std::vector<encoded_version>> augment_encoded(
    std::string_view encoded, std::string_view origin, const std::vector<labeled_box>& boxes,
    std::uint64_t seed, std::string_view key, int first, int last, encoding format,
    int jpeg_quality);

// Makes OpenCV single-threaded: callers parallelise over images themselves.
void use_single_thread();

}  // namespace ctprep::imaging
