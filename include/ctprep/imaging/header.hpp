// Image size from the file header alone (PNG IHDR, JPEG SOFn), without decoding the
// pixels: annotate and analyze need sizes for thousands of files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "ctprep/core/error.hpp"

namespace ctprep::imaging {

enum class image_format { png, jpeg };

struct image_header {
  image_format format;
  std::int64_t width;
  std::int64_t height;
  int channels;  // 1 gray, 3 colour, 4 with alpha (2 gray+alpha)
};

// Parses the leading bytes of a PNG or JPEG file; `origin` names it in errors.
[[nodiscard]] core::result<image_header> parse_image_header(std::string_view bytes,
                                                            std::string_view origin);
// Reads as few bytes of `path` as the header needs.
[[nodiscard]] core::result<image_header> read_image_header(const std::filesystem::path& path);

}  // namespace ctprep::imaging
