#include "ctprep/imaging/codec.hpp"

#include <cstring>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ctprep/core/rng.hpp"
#include "ctprep/imaging/header.hpp"
#include "imaging/codec_internal.hpp"

namespace ctprep::imaging {
namespace {

// A cv::Mat header over our pixels, BGR order for colour as OpenCV expects.
cv::Mat to_mat(const image_u8& image) {
  cv::Mat view(image.height, image.width, CV_8UC(image.channels),
               const_cast<std::uint8_t*>(image.pixels.data()));
  if (image.channels != 3) return view;
  cv::Mat bgr;
  cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

core::result<std::string> encode(const image_u8& image, const char* ext, std::vector<int> params) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) *
                                 static_cast<std::size_t>(image.height) *
                                 static_cast<std::size_t>(image.channels)) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("cannot encode a {}x{}x{} image holding {} bytes", image.width,
                                  image.height, image.channels, image.pixels.size()));
  }
  std::vector<std::uint8_t> buffer;
  try {
    if (!cv::imencode(ext, to_mat(image), buffer, params)) {
      return core::fail(core::error_code::internal, fmt::format("{} encoder failed", ext));
    }
  } catch (const cv::Exception& e) {
    return core::fail(core::error_code::internal,
                      fmt::format("{} encoder failed: {}", ext, e.what()));
  }
  return std::string(buffer.begin(), buffer.end());
}

}  // namespace

image_u8 make_image(int width, int height, int channels, std::uint8_t fill) {
  image_u8 image{width, height, channels, {}};
  image.pixels.assign(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                          static_cast<std::size_t>(channels),
                      fill);
  return image;
}

core::result<std::string> encode_png(const image_u8& image, int compression) {
  return encode(image, ".png", {cv::IMWRITE_PNG_COMPRESSION, compression});
}

core::result<std::string> encode_png_fast(const image_u8& image) {
  if (image.channels != 1 && image.channels != 3) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("cannot encode {} channels as PNG", image.channels));
  }
  if (image.pixels.size() != static_cast<std::size_t>(image.width) *
                                 static_cast<std::size_t>(image.height) *
                                 static_cast<std::size_t>(image.channels)) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("cannot encode a {}x{}x{} image holding {} bytes", image.width,
                                  image.height, image.channels, image.pixels.size()));
  }
  return detail::encode_png_sub(
      image.pixels.data(), image.width, image.height,
      static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.channels),
      image.channels, false);
}

core::result<std::string> encode_png(const image_u16& image, int compression) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() !=
          static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height)) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("cannot encode a {}x{} 16-bit image holding {} values",
                                  image.width, image.height, image.pixels.size()));
  }
  const cv::Mat view(image.height, image.width, CV_16UC1,
                     const_cast<std::uint16_t*>(image.pixels.data()));
  std::vector<std::uint8_t> buffer;
  try {
    if (!cv::imencode(".png", view, buffer, {cv::IMWRITE_PNG_COMPRESSION, compression})) {
      return core::fail(core::error_code::internal, "16-bit PNG encoder failed");
    }
  } catch (const cv::Exception& e) {
    return core::fail(core::error_code::internal,
                      fmt::format("16-bit PNG encoder failed: {}", e.what()));
  }
  return std::string(buffer.begin(), buffer.end());
}

core::result<std::string> encode_jpeg(const image_u8& image, int quality) {
  return encode(image, ".jpg", {cv::IMWRITE_JPEG_QUALITY, quality});
}

namespace {

// A whole PNG ends with its IEND chunk (12 bytes: length 0, "IEND", CRC); libpng
// through OpenCV would otherwise accept a file cut after its last IDAT.
bool png_complete(std::string_view bytes) {
  return bytes.size() >= 12 && bytes.substr(bytes.size() - 8, 4) == "IEND";
}

}  // namespace

core::result<image_digest> verify_image(std::string_view bytes, std::string_view origin) {
  auto header = parse_image_header(bytes, origin);
  if (!header) return tl::unexpected(header.error());
  if (header->format == image_format::jpeg) return detail::verify_jpeg(bytes, origin);
  auto image = decode_image(bytes, origin);
  if (!image) return tl::unexpected(image.error());
  image_digest digest{image->width, image->height, image->channels, 0, false};
  digest.content_hash = core::content_hash(
      {reinterpret_cast<const char*>(image->pixels.data()), image->pixels.size()},
      static_cast<std::uint64_t>(image->width) << 32 ^
          static_cast<std::uint64_t>(image->height) << 4 ^
          static_cast<std::uint64_t>(image->channels),
      &digest.constant);
  return digest;
}

core::result<image_u8> decode_image(std::string_view bytes, std::string_view origin) {
  if (bytes.starts_with("\x89PNG")) {
    auto fast = detail::decode_png_8bit(bytes, origin);
    if (!fast) return tl::unexpected(fast.error());
    if (*fast) return std::move(**fast);
    if (!png_complete(bytes)) {
      return core::fail(core::error_code::bad_image,
                        fmt::format("'{}' is truncated (no IEND chunk at its end)", origin));
    }
  }
  return detail::decode_with_opencv(bytes, origin);
}

namespace detail {

core::result<image_u8> decode_with_opencv(std::string_view bytes, std::string_view origin) {
  cv::Mat decoded;
  try {
    const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    decoded = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return core::fail(core::error_code::bad_image, fmt::format("'{}': {}", origin, e.what()));
  }
  if (decoded.empty()) {
    return core::fail(core::error_code::bad_image,
                      fmt::format("'{}' cannot be decoded (truncated or not an image)", origin));
  }
  if (decoded.depth() != CV_8U) {
    cv::Mat eight;
    decoded.convertTo(eight, CV_8U, decoded.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
    decoded = eight;
  }
  if (decoded.channels() == 4)
    cv::cvtColor(decoded, decoded, cv::COLOR_BGRA2RGB);
  else if (decoded.channels() == 3)
    cv::cvtColor(decoded, decoded, cv::COLOR_BGR2RGB);
  else if (decoded.channels() == 2)
    cv::extractChannel(decoded, decoded, 0);
  image_u8 out{decoded.cols, decoded.rows, decoded.channels(), {}};
  out.pixels.resize(static_cast<std::size_t>(decoded.total() * decoded.elemSize()));
  if (decoded.isContinuous()) {
    std::memcpy(out.pixels.data(), decoded.data, out.pixels.size());
  } else {
    const auto row_bytes = static_cast<std::size_t>(decoded.cols) * decoded.elemSize();
    for (int y = 0; y < decoded.rows; ++y) std::memcpy(out.row(y), decoded.ptr(y), row_bytes);
  }
  return out;
}

}  // namespace detail

}  // namespace ctprep::imaging
