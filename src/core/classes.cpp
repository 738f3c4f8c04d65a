#include "ctprep/core/classes.hpp"

namespace ctprep::core {

std::vector<category> make_categories(std::span<const std::string_view> names) {
  std::vector<category> out;
  out.reserve(names.size());
  std::int64_t id = 0;
  for (auto name : names) {
    out.push_back(category{id++, std::string(name), std::string(hemorrhage_supercategory), {}});
  }
  return out;
}

std::optional<std::string_view> long_class_name(std::string_view abbreviation) {
  struct entry {
    std::string_view abbreviation, name;
  };
  static constexpr entry table[] = {
      {"EDH", "epidural"},         {"HC", "hemorrhagic contusion"}, {"IPH", "intraparenchymal"},
      {"IVH", "intraventricular"}, {"SAH", "subarachnoid"},         {"SDH", "subdural"},
  };
  for (const auto& e : table) {
    if (e.abbreviation == abbreviation) return e.name;
  }
  return std::nullopt;
}

}  // namespace ctprep::core
