// ctprep annotate: a COCO file for a folder of no-hemorrhage slices.
#include <filesystem>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "ctprep/coco/coco.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/pipeline/annotate.hpp"

namespace ctprep::cli {
namespace {
namespace fs = std::filesystem;

struct annotate_options {
  fs::path image_dir;
  fs::path output_json;  // default: <image-dir>/_annotations.coco.json
  int indent = 0;
  common_options common;
};

int run_annotate(const annotate_options& o) {
  auto files = core::list_files(o.image_dir);
  if (!files) return report_error("annotate", files.error());
  auto progress = make_progress("annotate", files->size(), o.common.quiet);
  auto result = pipeline::annotate_folder(o.image_dir, {o.common.jobs, progress.get()});
  progress->finish();
  if (!result) return report_error("annotate", result.error());

  const auto out =
      o.output_json.empty() ? o.image_dir / coco::annotations_file_name : o.output_json;
  if (auto ok = coco::write_file(out, result->data, {o.indent}); !ok) {
    return report_error("annotate", ok.error());
  }
  std::size_t broken = 0;
  for (const auto& s : result->skipped) {
    const bool not_image = s.reason.starts_with("not an image");
    broken += not_image ? 0 : 1;
    print_warning("annotate", fmt::format("skipped '{}': {}", s.file_name, s.reason));
  }
  if (result->data.images.empty()) {
    print_warning("annotate", fmt::format("'{}' holds no images", o.image_dir.string()));
  }
  fmt::print("✅ COCO annotations saved to: {}\n", out.string());
  fmt::print("   Images: {}\n", result->data.images.size());
  fmt::print("   Annotations: 0 (empty - no hemorrhages)\n");
  fmt::print("   Categories: {}\n", result->data.categories.size());
  if (!result->skipped.empty()) fmt::print("   Skipped: {}\n", result->skipped.size());
  return broken > 0 ? exit_partial : exit_ok;
}

run_function setup_annotate(CLI::App& app) {
  auto o = std::make_shared<annotate_options>();
  app.add_option("--image-dir", o->image_dir, "Folder of PNG/JPEG slices")->required();
  app.add_option("--output-json", o->output_json,
                 "COCO file to write (default: <image-dir>/_annotations.coco.json)");
  app.add_option("--indent", o->indent, "Pretty-print with this many spaces (default compact)");
  add_jobs_option(app, o->common);
  add_quiet_option(app, o->common);
  return [o] { return run_annotate(*o); };
}

const registrar reg{
    {"annotate", "Write a COCO file for a folder of no-hemorrhage slices", setup_annotate}};

}  // namespace
}  // namespace ctprep::cli
