// One flat error enum for the whole library (after simdjson's error_code): every
// fallible function returns result<T>, whose error names the file, item or tag.
#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace ctprep::core {

enum class error_code {
  not_found,          // an input file or folder does not exist
  io_error,           // reading failed for a reason other than absence
  not_writable,       // an output cannot be created or replaced
  malformed_json,     // not JSON at all
  bad_coco,           // JSON, but not a consistent COCO file
  bad_identity,       // a file name that the slice-identity rule cannot read
  bad_image,          // an image file that cannot be decoded or sized
  corrupt_dicom,      // a DICOM file that cannot be read
  unsupported_dicom,  // a DICOM file we can read but not turn into a slice
  bad_csv,            // the feedback CSV is malformed or misses a column
  bad_recipe,         // a recipe or config file is wrong
  bad_argument,       // a caller passed something impossible
  network,            // a transfer failed (DNS, refused, timeout, 5xx)
  auth,               // credentials refused (403, signature mismatch)
  validation_failed,  // a dataset broke a validation rule
  cancelled,          // the run was interrupted
  internal,           // a bug: an invariant did not hold
};

// The stable lower-case name of a code, e.g. "bad_coco".
[[nodiscard]] std::string_view error_name(error_code code) noexcept;

struct error {
  error_code code;
  std::string message;  // starts with error_name(code), then the details

  // Prefix the message with the code's name: make(bad_coco, "x") -> "bad_coco: x".
  [[nodiscard]] static error make(error_code code, std::string_view details);
};

template <typename T>
using result = tl::expected<T, error>;

// A convenience for `return core::fail(code, "...")` in functions returning result<T>.
[[nodiscard]] inline tl::unexpected<error> fail(error_code code, std::string_view details) {
  return tl::unexpected<error>(error::make(code, details));
}

}  // namespace ctprep::core
