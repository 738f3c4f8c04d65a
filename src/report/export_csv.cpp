#include "ctprep/report/export_csv.hpp"

#include <algorithm>
#include <array>
#include <unordered_map>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "ctprep/coco/layout.hpp"
#include "ctprep/core/identity.hpp"

namespace ctprep::report {
namespace {

// The has_<class> columns in export order, by category name.
constexpr std::array<std::string_view, 6> flag_classes = {"IPH", "IVH", "SAH", "EDH", "SDH", "HC"};

struct row {
  std::string file_name;
  std::string line;
};

}  // namespace

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string dataset_version(const std::filesystem::path& dataset_dir) {
  const auto path = dataset_dir / "metadata.yaml";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return {};
  try {
    const auto root = YAML::LoadFile(path.string());
    if (root["version"]) return root["version"].as<std::string>();
  } catch (const YAML::Exception&) {
    // A broken metadata.yaml only loses the default version; validate reports it.
  }
  return {};
}

core::result<std::string> export_csv(const std::filesystem::path& dataset_dir,
                                     std::string_view model_version) {
  auto splits = coco::load_splits(dataset_dir);
  if (!splits) return tl::unexpected(splits.error());

  std::string out;
  for (std::size_t i = 0; i < std::size(export_columns); ++i) {
    if (i) out.push_back(',');
    out.append(export_columns[i]);
  }
  out.append("\r\n");

  const auto version_field = csv_field(model_version);
  for (const auto& split : *splits) {
    const auto& d = split.data;
    // Column of each category id (-1: a class with no column).
    std::unordered_map<std::int64_t, int> column_of;
    for (const auto& c : d.categories) {
      const auto it = std::find(flag_classes.begin(), flag_classes.end(), c.name);
      column_of[c.id] = it == flag_classes.end() ? -1 : static_cast<int>(it - flag_classes.begin());
    }
    struct counts {
      std::array<bool, 6> flags{};
      std::uint64_t total = 0;
    };
    std::unordered_map<std::int64_t, counts> per_image;
    for (const auto& a : d.annotations) {
      auto& c = per_image[a.image_id];
      ++c.total;
      if (const int col = column_of[a.category_id]; col >= 0)
        c.flags[static_cast<std::size_t>(col)] = true;
    }
    std::vector<row> rows;
    rows.reserve(d.images.size());
    for (const auto& im : d.images) {
      auto id = core::parse_slice_identity(im.file_name);
      if (!id) {
        return core::fail(
            core::error_code::bad_identity,
            fmt::format("{} (in '{}')", id.error().message, split.ref.json_path.string()));
      }
      const auto it = per_image.find(im.id);
      const counts c = it == per_image.end() ? counts{} : it->second;
      std::string line =
          fmt::format("{},{},{},{},{}", id->patient, id->instance, csv_field(im.file_name),
                      csv_field(split.ref.name), core::source_name(core::source_of(im.file_name)));
      for (bool f : c.flags) line += f ? ",1" : ",0";
      line += fmt::format(",{},{},{}\r\n", c.total == 0 ? 1 : 0, c.total, version_field);
      rows.push_back({im.file_name, std::move(line)});
    }
    std::sort(rows.begin(), rows.end(),
              [](const row& x, const row& y) { return x.file_name < y.file_name; });
    for (const auto& r : rows) out.append(r.line);
  }
  return out;
}

}  // namespace ctprep::report
