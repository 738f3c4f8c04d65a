// ctprep synth store: a local object store (file:// URLs) for a synthetic world.
#include <fmt/format.h>

#include "cli/synth.hpp"
#include "ctprep/pipeline/synth_store.hpp"

namespace ctprep::cli {
namespace {

struct store_cli_options {
  pipeline::store_options store;
  common_options common;
};

int run_store(const store_cli_options& o) {
  auto summary = pipeline::write_synthetic_store(o.store);
  if (!summary) return report_error("synth store", summary.error());
  fmt::print(
      "✅ store {}: {} DICOM slices ({:.1f} MB, {} with a slice thickness the filter skips)\n",
      o.store.store_dir.string(), summary->objects, static_cast<double>(summary->bytes) / 1e6,
      summary->wrong_thickness);
  fmt::print("   feedback CSV rewritten to file:// URLs: {}\n",
             (o.store.data_root / "metadata" / "no_hemorrhage_positive_feedback.csv").string());
  return exit_ok;
}

run_function setup_store(CLI::App& app) {
  auto o = std::make_shared<store_cli_options>();
  app.add_option("--data-root", o->store.data_root, "A world written by 'ctprep synth world'")
      ->required();
  app.add_option("--store", o->store.store_dir, "Folder of the local object store")->required();
  app.add_option("--tn-rows", o->store.tn_rows, "TN rows to store after every FP row")
      ->capture_default_str();
  app.add_option("--seed", o->store.seed, "Seed")->capture_default_str();
  add_jobs_option(app, o->common);
  return [o] {
    o->store.jobs = o->common.jobs;
    return run_store(*o);
  };
}

const synth_registrar reg{{"store",
                           "Write the DICOMs a world's feedback CSV lists into a local store "
                           "(file:// URLs), for offline download runs",
                           setup_store}};

}  // namespace
}  // namespace ctprep::cli
