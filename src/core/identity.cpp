#include "ctprep/core/identity.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace ctprep::core {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view drop_extension(std::string_view name) {
  const auto dot = name.rfind('.');
  return dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot);
}

// Position of a trailing "_aug<digits>" in `stem`, or npos.
std::size_t aug_suffix_position(std::string_view stem) {
  const auto pos = stem.rfind("_aug");
  if (pos == std::string_view::npos) return pos;
  return all_digits(stem.substr(pos + 4)) ? pos : std::string_view::npos;
}

constexpr std::array<std::string_view, 7> known_prefixes = {
    "v3_", "v4_", "v5_", "roboflow_", "thin_", "thick_", "no_hem_"};

}  // namespace

std::string to_string(const slice_id& id) {
  return id.patient + "_" + id.instance;
}

std::string_view source_name(image_source source) noexcept {
  switch (source) {
    case image_source::v3:
      return "v3";
    case image_source::roboflow:
      return "roboflow";
    case image_source::no_hem:
      return "no_hem";
  }
  return "no_hem";
}

std::optional<std::string> canonical_digits(std::string_view text) {
  if (!all_digits(text)) return std::nullopt;
  const auto first = text.find_first_not_of('0');
  return first == std::string_view::npos ? std::string("0") : std::string(text.substr(first));
}

result<slice_id> parse_slice_identity(std::string_view file_name) {
  // Only the last path component names the slice.
  if (const auto slash = file_name.find_last_of("/\\"); slash != std::string_view::npos) {
    file_name = file_name.substr(slash + 1);
  }
  std::string_view stem = drop_extension(file_name);                      // 1
  if (const auto rf = stem.find(".rf."); rf != std::string_view::npos) {  // 2
    stem = stem.substr(0, rf);
  }
  if (const auto aug = aug_suffix_position(stem); aug != std::string_view::npos) {  // 3
    stem = stem.substr(0, aug);
  }
  if (stem.ends_with("_png")) stem.remove_suffix(4);  // 4
  for (bool stripped = true; stripped;) {             // 5
    stripped = false;
    for (auto prefix : known_prefixes) {
      if (stem.starts_with(prefix)) {
        stem.remove_prefix(prefix.size());
        stripped = true;
      }
    }
  }
  // 6: patient = the leading run of digits, instance = the next "_"-separated part,
  // which must be all digits.
  const auto digits_end = stem.find_first_not_of("0123456789");
  const auto patient = stem.substr(0, digits_end);
  if (patient.empty() || digits_end == std::string_view::npos || stem[digits_end] != '_') {
    return fail(error_code::bad_identity,
                fmt::format("'{}' does not start with <patient>_<instance>", file_name));
  }
  auto rest = stem.substr(digits_end + 1);
  const auto instance = rest.substr(0, rest.find('_'));
  if (!all_digits(instance)) {
    return fail(error_code::bad_identity,
                fmt::format("'{}' has no all-digit instance number after patient '{}'", file_name,
                            patient));
  }
  return slice_id{*canonical_digits(patient), *canonical_digits(instance)};
}

std::optional<int> augmentation_version(std::string_view file_name) {
  std::string_view stem = drop_extension(file_name);
  const auto pos = aug_suffix_position(stem);
  if (pos == std::string_view::npos) return std::nullopt;
  const auto digits = stem.substr(pos + 4);
  if (digits.size() > 6) return std::nullopt;
  int k = 0;
  for (char c : digits) k = k * 10 + (c - '0');
  return k;
}

std::string original_file_name(std::string_view file_name) {
  const auto dot = file_name.rfind('.');
  const auto stem = dot == std::string_view::npos ? file_name : file_name.substr(0, dot);
  const auto ext = dot == std::string_view::npos ? std::string_view{} : file_name.substr(dot);
  const auto pos = aug_suffix_position(stem);
  if (pos == std::string_view::npos) return std::string(file_name);
  return std::string(stem.substr(0, pos)) + std::string(ext);
}

image_source source_of(std::string_view file_name) {
  if (file_name.starts_with("v3_")) return image_source::v3;
  if (file_name.starts_with("roboflow_")) return image_source::roboflow;
  return image_source::no_hem;
}

}  // namespace ctprep::core
