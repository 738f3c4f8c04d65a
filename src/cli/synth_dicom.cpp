// ctprep synth dicom: synthetic head-CT series (issue 4), for tests, benchmarks and demos.
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/synth.hpp"
#include "ctprep/dicom/synth.hpp"

namespace ctprep::cli {
namespace {

struct synth_dicom_options {
  std::filesystem::path out;
  int series = 1;
  int slices = 32;
  std::uint64_t seed = 42;
  std::string syntax = "explicit";
  double wrong_thickness = 0.1;
  common_options common;
};

int run_synth_dicom(const synth_dicom_options& o) {
  auto syntax = dicom::parse_synth_syntax(o.syntax);
  if (!syntax) return report_error("synth dicom", syntax.error());
  dicom::synth_options s;
  s.out_dir = o.out;
  s.series = o.series;
  s.slices = o.slices;
  s.seed = o.seed;
  s.syntax = *syntax;
  s.wrong_thickness_fraction = o.wrong_thickness;
  s.jobs = o.common.jobs;
  auto result = dicom::write_series(s);
  if (!result) return report_error("synth dicom", result.error());
  std::size_t wrong = 0;
  for (const auto& f : result->files) wrong += (f.thickness == 5.0 || f.thickness == 5.5) ? 0 : 1;
  fmt::print("Wrote {} slices in {} series ({}) to {}\n", result->files.size(), o.series,
             dicom::synth_syntax_name(*syntax), o.out.string());
  fmt::print("Slices with a rejected thickness: {}\n", wrong);
  fmt::print("Hemorrhage boxes: {} in {}\n", result->boxes.annotations.size(),
             result->coco_path.string());
  return exit_ok;
}

run_function setup_synth_dicom(CLI::App& app) {
  auto o = std::make_shared<synth_dicom_options>();
  app.add_option("--out", o->out, "Output folder (<out>/<patient_id>/<instance>.dcm)")->required();
  app.add_option("--series", o->series, "Number of series (one patient each)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--slices", o->slices, "Slices per series")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--seed", o->seed, "Random seed")->capture_default_str();
  app.add_option("--syntax", o->syntax,
                 "explicit, implicit, big, rle, jpegls, j2k or jpeg-lossless")
      ->check(
          CLI::IsMember({"explicit", "implicit", "big", "rle", "jpegls", "j2k", "jpeg-lossless"}))
      ->capture_default_str();
  app.add_option("--wrong-thickness", o->wrong_thickness,
                 "Share of slices with a thickness the filter rejects")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  add_jobs_option(app, o->common);
  add_quiet_option(app, o->common);
  return [o] { return run_synth_dicom(*o); };
}

const synth_registrar reg{{"dicom", "Write synthetic head-CT DICOM series", setup_synth_dicom}};

}  // namespace
}  // namespace ctprep::cli
