// The one slice-identity rule of SPEC 1, used by every command.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "ctprep/core/error.hpp"

namespace ctprep::core {

// A CT slice: patient id and instance number, both canonical digit strings (leading
// zeros removed, "0" for zero) so that "007" and "7" name the same slice.
struct slice_id {
  std::string patient;
  std::string instance;
  friend auto operator<=>(const slice_id&, const slice_id&) = default;
  friend bool operator==(const slice_id&, const slice_id&) = default;
};

// "<patient>_<instance>", the name a pool PNG gets.
[[nodiscard]] std::string to_string(const slice_id& id);

// Where an image came from, read from its file-name prefix.
enum class image_source { v3, roboflow, no_hem };
[[nodiscard]] std::string_view source_name(image_source source) noexcept;

// SPEC 1: drop the extension, cut at ".rf.", cut "_aug<k>", drop "_png", strip the
// known prefixes repeatedly, then patient = leading digits, instance = next all-digit
// "_" part. Fails with bad_identity naming the file.
[[nodiscard]] result<slice_id> parse_slice_identity(std::string_view file_name);

// Canonical digits ("007" -> "7"); nullopt when `text` is empty or not all digits.
[[nodiscard]] std::optional<std::string> canonical_digits(std::string_view text);

// k of a trailing "_aug<k>" before the extension (and before any ".rf."), if any.
[[nodiscard]] std::optional<int> augmentation_version(std::string_view file_name);

// The file name with its "_aug<k>" removed: the name of the original it came from.
[[nodiscard]] std::string original_file_name(std::string_view file_name);

// v3_ -> v3, roboflow_ -> roboflow, anything else (no_hem_ or a bare pool name) -> no_hem.
[[nodiscard]] image_source source_of(std::string_view file_name);

}  // namespace ctprep::core
