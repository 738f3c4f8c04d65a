// ctprep download-merge: after the shards of a sharded download (--shard K/N, e.g. a
// Slurm job array), check that every shard is complete, then write the pool's COCO file
// and one summary of all shards' per-item logs.
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "ctprep/coco/coco.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/pipeline/annotate.hpp"
#include "ctprep/pipeline/shards.hpp"

namespace ctprep::cli {
namespace {
namespace fs = std::filesystem;

struct download_merge_options {
  fs::path data_root = "data";
  fs::path output_dir;  // default <data-root>/training_datasets/no_hemorrhage_downloads
  std::uint64_t shards = 0;
  bool no_annotate = false;
  common_options common;
};

int run_download_merge(download_merge_options& o) {
  constexpr std::string_view cmd = "download-merge";
  if (o.output_dir.empty())
    o.output_dir = o.data_root / "training_datasets" / "no_hemorrhage_downloads";
  fmt::print("[1/3] Checking {} shards in '{}'\n", o.shards, o.output_dir.string());
  auto check = pipeline::check_shards(o.output_dir, o.shards, o.common.jobs);
  if (!check) return report_error(cmd, check.error());
  for (const auto& s : check->shards) {
    if (s.problem.empty()) {
      fmt::print("  shard {}/{}: complete: {} planned, {} ok, {} skipped, {} failed\n", s.index,
                 o.shards, s.planned, s.ok, s.skipped, s.failed);
    } else {
      fmt::print("  {}\n", s.problem);
    }
  }
  if (check->temp_files_removed > 0) {
    fmt::print("  {} leftover temp files of killed runs removed\n", check->temp_files_removed);
  }
  const auto incomplete = check->incomplete();
  if (!incomplete.empty()) {
    std::string list;
    for (auto k : incomplete) list += fmt::format("{}{}", list.empty() ? "" : ",", k);
    return report_error(
        cmd, core::error::make(
                 core::error_code::validation_failed,
                 fmt::format("{} of {} shards incomplete ({}); nothing written: re-run them "
                             "(`sbatch --array={} <script>` or `ctprep download --shard K/{} "
                             "...`), then merge again. First: {}",
                             incomplete.size(), o.shards, list, list, o.shards,
                             check->shards[incomplete.front()].problem)));
  }

  if (check->extension == ".png" && !o.no_annotate) {
    fmt::print("[2/3] Annotating '{}'\n", o.output_dir.string());
    auto annotated = pipeline::annotate_folder(o.output_dir, {o.common.jobs, nullptr});
    if (!annotated) return report_error(cmd, annotated.error());
    const auto out = o.output_dir / coco::annotations_file_name;
    if (auto ok = coco::write_file(out, annotated->data); !ok) return report_error(cmd, ok.error());
    fmt::print("  COCO annotations saved to: {} ({} images)\n", out.string(),
               annotated->data.images.size());
  } else {
    fmt::print("[2/3] Annotating: skipped\n");
  }

  const auto summary = o.output_dir / pipeline::merge_summary_name;
  if (auto ok = core::write_file_atomic(summary, pipeline::merge_summary_json(*check)); !ok) {
    return report_error(cmd, ok.error());
  }
  fmt::print("[3/3] Summary of {} shards ({} planned)\n", o.shards, check->items.size());
  fmt::print("  ✅ Successful: {}\n", check->ok);
  fmt::print("  ⏭️  Skipped (slice thickness): {}\n", check->skipped);
  fmt::print("  ❌ Failed: {}\n", check->failed);
  std::size_t shown = 0;
  for (const auto& item : check->items) {
    if (item.outcome != pipeline::item_outcome::failed || shown++ >= 10) continue;
    fmt::print("     {} (shard {}): {}\n", item.id, item.shard, item.reason);
  }
  fmt::print("  Summary: {}\n", summary.string());
  return check->failed > 0 ? exit_partial : exit_ok;
}

run_function setup_download_merge(CLI::App& app) {
  auto o = std::make_shared<download_merge_options>();
  app.add_option("--data-root", o->data_root, "Data root of the default output folder")
      ->capture_default_str();
  app.add_option(
      "--output-dir", o->output_dir,
      "The shards' output folder (default <data-root>/training_datasets/no_hemorrhage_downloads; "
      "with --no-convert: their --keep-dicom folder)");
  app.add_option("--shards", o->shards, "Number of shards N the download ran with")
      ->required()
      ->check(CLI::PositiveNumber);
  app.add_flag("--no-annotate", o->no_annotate, "Do not write <output-dir>/_annotations.coco.json");
  add_jobs_option(app, o->common);
  add_quiet_option(app, o->common);
  return [o] { return run_download_merge(*o); };
}

const registrar reg{{"download-merge",
                     "Check the shards of a sharded download and write the pool's COCO file",
                     setup_download_merge}};

}  // namespace
}  // namespace ctprep::cli
