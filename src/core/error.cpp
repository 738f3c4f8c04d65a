#include "ctprep/core/error.hpp"

#include <fmt/format.h>

namespace ctprep::core {

std::string_view error_name(error_code code) noexcept {
  switch (code) {
    case error_code::not_found:
      return "not_found";
    case error_code::io_error:
      return "io_error";
    case error_code::not_writable:
      return "not_writable";
    case error_code::malformed_json:
      return "malformed_json";
    case error_code::bad_coco:
      return "bad_coco";
    case error_code::bad_identity:
      return "bad_identity";
    case error_code::bad_image:
      return "bad_image";
    case error_code::corrupt_dicom:
      return "corrupt_dicom";
    case error_code::unsupported_dicom:
      return "unsupported_dicom";
    case error_code::bad_csv:
      return "bad_csv";
    case error_code::bad_recipe:
      return "bad_recipe";
    case error_code::bad_argument:
      return "bad_argument";
    case error_code::network:
      return "network";
    case error_code::auth:
      return "auth";
    case error_code::validation_failed:
      return "validation_failed";
    case error_code::cancelled:
      return "cancelled";
    case error_code::internal:
      return "internal";
  }
  return "internal";
}

error error::make(error_code code, std::string_view details) {
  return error{code, fmt::format("{}: {}", error_name(code), details)};
}

}  // namespace ctprep::core
