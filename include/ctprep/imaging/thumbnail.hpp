// Thumbnails for contact sheets: a slice scaled down to fit a square, turned to RGB,
// with its boxes drawn and labelled on top. Boxes are drawn at the thumbnail's scale,
// so the lines stay crisp however large the original slice is.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "ctprep/imaging/codec.hpp"

namespace ctprep::imaging {

struct labelled_box {
  double x = 0, y = 0, w = 0, h = 0;  // COCO [x, y, width, height] in the source image's pixels
  std::string label;                  // drawn in a tag above the box's top-left corner ("" none)
  std::uint8_t r = 255, g = 0, b = 0;
};

// The image scaled (area averaging, aspect kept) so that its longer side is at most
// `max_side` (never enlarged), as 3-channel RGB, with the boxes drawn. A gray image is
// replicated to RGB; an RGB image is kept. Deterministic pixels for the same input.
// bad_argument when the image is empty or max_side < 8.
[[nodiscard]] core::result<image_u8> make_thumbnail(const image_u8& source, int max_side,
                                                    std::span<const labelled_box> boxes);

}  // namespace ctprep::imaging
