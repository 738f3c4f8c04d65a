// `annotate`: a COCO file for a folder of negative slices (the no-hemorrhage pool):
// the six categories, one image entry per image sorted by name with ids from 1, sizes
// from the image headers, and no annotations.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ctprep/core/dataset.hpp"
#include "ctprep/core/error.hpp"
#include "ctprep/core/progress.hpp"

namespace ctprep::pipeline {

struct skipped_file {
  std::string file_name;
  std::string reason;
};

struct annotate_result {
  core::dataset data;
  std::vector<skipped_file> skipped;  // not an image, or an image whose header is broken
};

struct annotate_options {
  unsigned jobs = 0;  // 0: all cores
  core::progress* progress = nullptr;
};

[[nodiscard]] core::result<annotate_result> annotate_folder(const std::filesystem::path& dir,
                                                            const annotate_options& options = {});

}  // namespace ctprep::pipeline
