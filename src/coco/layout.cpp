#include "ctprep/coco/layout.hpp"

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"

namespace ctprep::coco {
namespace fs = std::filesystem;

core::result<std::vector<split_ref>> find_splits(const fs::path& dataset_dir) {
  std::error_code ec;
  if (!fs::is_directory(dataset_dir, ec)) {
    return core::fail(core::error_code::not_found,
                      fmt::format("dataset folder '{}' does not exist", dataset_dir.string()));
  }
  std::vector<split_ref> splits;
  for (const char* name : split_names) {
    const auto dir = dataset_dir / name;
    const auto json = dir / annotations_file_name;
    if (fs::is_regular_file(json, ec)) {
      splits.push_back({name, dir, json});
    } else if (fs::is_directory(dir, ec)) {
      return core::fail(
          core::error_code::not_found,
          fmt::format("split folder '{}' has no {}", dir.string(), annotations_file_name));
    }
  }
  if (!splits.empty()) return splits;
  const auto flat = dataset_dir / annotations_file_name;
  if (fs::is_regular_file(flat, ec)) {
    auto name = fs::absolute(dataset_dir, ec).lexically_normal().filename().string();
    if (name.empty())
      name = fs::absolute(dataset_dir, ec).lexically_normal().parent_path().filename().string();
    splits.push_back({name.empty() ? "all" : name, dataset_dir, flat});
    return splits;
  }
  return core::fail(core::error_code::not_found,
                    fmt::format("'{}' has neither train/valid/test/{} nor {}", dataset_dir.string(),
                                annotations_file_name, annotations_file_name));
}

core::result<std::vector<loaded_split>> load_splits(const fs::path& dataset_dir) {
  auto refs = find_splits(dataset_dir);
  if (!refs) return tl::unexpected(refs.error());
  std::vector<loaded_split> out;
  for (auto& ref : *refs) {
    auto data = read_file(ref.json_path);
    if (!data) return tl::unexpected(data.error());
    out.push_back({std::move(ref), std::move(*data)});
  }
  return out;
}

}  // namespace ctprep::coco
