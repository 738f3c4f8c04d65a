// ctprep verify-manifest: checks a release against its manifest.json.
#include <filesystem>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "ctprep/pipeline/manifest.hpp"

namespace ctprep::cli {
namespace {

struct verify_options {
  std::filesystem::path dir;
  common_options common;
};

int run_verify(const verify_options& o) {
  auto differences = pipeline::verify_manifest(o.dir, o.common.jobs);
  if (!differences) return report_error("verify-manifest", differences.error());
  if (differences->empty()) {
    fmt::print("✅ {} matches its manifest\n", o.dir.string());
    return exit_ok;
  }
  fmt::print("❌ {} differs from its manifest in {} files:\n", o.dir.string(), differences->size());
  for (const auto& d : *differences) fmt::print("  {}: {}\n", d.problem, d.path);
  return exit_validation_failed;
}

run_function setup_verify(CLI::App& app) {
  auto o = std::make_shared<verify_options>();
  app.add_option("dir", o->dir, "Release folder holding manifest.json")->required();
  add_jobs_option(app, o->common);
  return [o] { return run_verify(*o); };
}

const registrar reg{{"verify-manifest",
                     "Check a release against its manifest.json (SHA-256 of every file)",
                     setup_verify}};

}  // namespace
}  // namespace ctprep::cli
