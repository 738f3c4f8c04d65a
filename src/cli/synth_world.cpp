// ctprep synth world: the source layout of SPEC 1 with CT-like slices.
#include <filesystem>

#include <fmt/format.h>

#include "cli/synth.hpp"
#include "ctprep/pipeline/synth_world.hpp"

namespace ctprep::cli {
namespace {
namespace fs = std::filesystem;

struct world_options {
  fs::path out;
  std::string scale = "demo";
  std::uint64_t seed = 42;
  common_options common;
  std::filesystem::path with_store;
  store_cli_options store;
};

int run_world(world_options& o) {
  if (auto ok = check_store_url(o.store.store.url_base); !ok) {
    return report_error("synth world", ok.error());
  }
  auto scale = pipeline::world_scale_named(o.scale);
  if (!scale) return report_error("synth world", scale.error());
  const auto total = scale->v3_images + scale->roboflow_images + scale->pool_images;
  auto progress = make_progress("synth world", total, o.common.quiet);
  auto summary = pipeline::synth_world(o.out, *scale, o.seed, o.common.jobs, progress.get());
  progress->finish();
  if (!summary) return report_error("synth world", summary.error());
  fmt::print("Synthetic world ({}) written to {}\n", o.scale, o.out.string());
  fmt::print("  V3: {} images, Roboflow: {} images ({} slices in both), patients: {}\n",
             summary->v3_images, summary->roboflow_images, summary->duplicates, summary->patients);
  fmt::print("  pool: {} images; feedback CSV: {} rows ({} FP)\n", summary->pool_images,
             summary->csv_rows, summary->fp_rows);
  fmt::print("  listed but missing files: {}; boxes past the edge: {}\n", summary->missing_files,
             summary->edge_boxes);
  if (!o.with_store.empty()) {
    o.store.store.data_root = o.out;
    o.store.store.store_dir = o.with_store;
    o.store.store.seed = o.seed;
    o.store.store.jobs = o.common.jobs;
    if (const int rc = write_store("synth world", o.store); rc != exit_ok) return rc;
    fmt::print("Next: ctprep run --data-root {}\n", o.out.string());
    return exit_ok;
  }
  fmt::print("Next: ctprep prepare --data-root {}\n", o.out.string());
  return exit_ok;
}

run_function setup_world(CLI::App& app) {
  auto o = std::make_shared<world_options>();
  app.add_option("--out", o->out, "Data root to write (training_datasets/, metadata/)")->required();
  app.add_option("--scale", o->scale, "demo (seconds) or v4 (the real build's size)")
      ->check(CLI::IsMember({"demo", "v4"}));
  app.add_option("--seed", o->seed, "Seed (default 42)");
  app.add_option("--with-store", o->with_store,
                 "Also write the DICOMs the pool lacks into this object store folder and point "
                 "the feedback CSV at them (as 'ctprep synth store')");
  add_store_options(app, o->store);
  add_jobs_option(app, o->common);
  add_quiet_option(app, o->common);
  return [o] { return run_world(*o); };
}

const synth_registrar reg{
    {"world", "V3 + Roboflow + no-hem pool + feedback CSV, CT-like images", setup_world}};

}  // namespace
}  // namespace ctprep::cli
