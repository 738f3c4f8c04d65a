// ctprep export-csv: one metadata row per image of a dataset.
#include <filesystem>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/report/export_csv.hpp"

namespace ctprep::cli {
namespace {

struct export_options {
  std::filesystem::path dataset_dir;
  std::filesystem::path output;
  std::string model_version;
};

int run_export(const export_options& o) {
  std::string version = o.model_version;
  if (version.empty()) version = report::dataset_version(o.dataset_dir);
  if (version.empty()) version = "v4";
  auto csv = report::export_csv(o.dataset_dir, version);
  if (!csv) return report_error("export-csv", csv.error());
  if (auto ok = core::write_file_atomic(o.output, *csv); !ok) {
    return report_error("export-csv", ok.error());
  }
  const auto rows = static_cast<std::size_t>(std::count(csv->begin(), csv->end(), '\n')) - 1;
  fmt::print("✅ Exported {} rows to {}\n", rows, o.output.string());
  return exit_ok;
}

run_function setup_export(CLI::App& app) {
  auto o = std::make_shared<export_options>();
  app.add_option("--dataset-dir", o->dataset_dir, "Dataset folder")->required();
  app.add_option("--output", o->output, "CSV file to write")->required();
  app.add_option("--model-version", o->model_version,
                 "Value of the modelVersion column (default: metadata.yaml's version, else v4)");
  return [o] { return run_export(*o); };
}

const registrar reg{{"export-csv", "Export one metadata row per image as CSV", setup_export}};

}  // namespace
}  // namespace ctprep::cli
