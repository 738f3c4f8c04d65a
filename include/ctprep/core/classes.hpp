// The class sets of SPEC 1: the 6-class set (ids 0..5) and the 4-class set (ids 0..3),
// supercategory "hemorrhage". Classes are always matched by name, never by id.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "ctprep/core/dataset.hpp"

namespace ctprep::core {

inline constexpr std::string_view six_class_names[] = {"EDH", "HC", "IPH", "IVH", "SAH", "SDH"};
inline constexpr std::string_view four_class_names[] = {"IPH", "IVH", "SAH", "SDH"};
inline constexpr std::string_view hemorrhage_supercategory = "hemorrhage";

// Categories with ids 0..n-1 in the given order.
[[nodiscard]] std::vector<category> make_categories(std::span<const std::string_view> names);

// Long clinical name of a class abbreviation ("IPH" -> "intraparenchymal"), if known.
[[nodiscard]] std::optional<std::string_view> long_class_name(std::string_view abbreviation);

}  // namespace ctprep::core
