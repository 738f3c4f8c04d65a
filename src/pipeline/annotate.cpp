#include "ctprep/pipeline/annotate.hpp"

#include <optional>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/classes.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/core/parallel.hpp"
#include "ctprep/imaging/header.hpp"

namespace ctprep::pipeline {
namespace fs = std::filesystem;

core::result<annotate_result> annotate_folder(const fs::path& dir,
                                              const annotate_options& options) {
  auto files = core::list_files(dir);
  if (!files) return tl::unexpected(files.error());

  annotate_result out;
  out.data.info = R"({"description":"no-hemorrhage slices","contributor":"ctprep"})";
  out.data.categories = core::make_categories(core::six_class_names);

  std::vector<fs::path> images;
  for (const auto& f : *files) {
    const auto name = f.filename().string();
    if (name == coco::annotations_file_name || name.starts_with(".")) continue;  // ours, temp files
    if (core::has_image_extension(f)) {
      images.push_back(f);
    } else {
      out.skipped.push_back({name, "not an image (.png, .jpg, .jpeg)"});
    }
  }

  // Headers are read in parallel into per-index slots; order stays the sorted order.
  std::vector<core::result<imaging::image_header>> headers(
      images.size(), core::fail(core::error_code::internal, ""));
  core::parallel_for(images.size(), options.jobs, [&](std::size_t i) {
    headers[i] = imaging::read_image_header(images[i]);
    if (options.progress) options.progress->advance();
  });

  std::int64_t next_id = 1;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto name = images[i].filename().string();
    if (!headers[i]) {
      out.skipped.push_back({name, headers[i].error().message});
      continue;
    }
    out.data.images.push_back(
        core::image{next_id++, name, headers[i]->width, headers[i]->height, {}});
  }
  return out;
}

}  // namespace ctprep::pipeline
