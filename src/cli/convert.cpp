// ctprep convert: DICOM files or folders to windowed PNGs (SPEC 2 `convert`, issue 4).
#include <filesystem>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/dicom/batch.hpp"
#include "ctprep/pipeline/download.hpp"

namespace ctprep::cli {
namespace {
namespace fs = std::filesystem;

struct convert_cli_options {
  std::vector<fs::path> inputs;
  fs::path output_dir;
  std::string name;
  std::string window = "header";
  std::string color = "gray";
  int bit_depth = 8;
  std::string thickness = "5.0,5.5";
  bool no_filter_thickness = false;
  int frame = 0;
  fs::path log;
  bool overwrite = false;
  std::string shard;
  common_options common;
};

core::result<std::vector<double>> parse_thickness_list(const std::string& text) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    try {
      std::size_t used = 0;
      const double v = std::stod(part, &used);
      if (used != part.size() || !(v > 0)) throw std::invalid_argument(part);
      out.push_back(v);
    } catch (const std::exception&) {
      return core::fail(
          core::error_code::bad_argument,
          fmt::format("--thickness '{}': expected positive numbers separated by commas", text));
    }
  }
  if (out.empty()) return core::fail(core::error_code::bad_argument, "--thickness is empty");
  return out;
}

int run_convert(const convert_cli_options& o) {
  dicom::batch_options b;
  auto window = dicom::parse_window(o.window);
  if (!window) return report_error("convert", window.error());
  b.convert.window = *window;
  b.convert.colour = o.color == "rgb" ? dicom::colour_mode::rgb : dicom::colour_mode::gray;
  b.convert.bit_depth = o.bit_depth;
  b.convert.filter_thickness = !o.no_filter_thickness;
  auto thickness = parse_thickness_list(o.thickness);
  if (!thickness) return report_error("convert", thickness.error());
  b.convert.accepted_thickness = *thickness;
  b.convert.frame = o.frame;
  b.out_dir = o.output_dir;
  b.name_template = o.name;
  b.overwrite = o.overwrite;
  b.jobs = o.common.jobs;
  if (!o.name.empty()) {
    if (auto ok = dicom::check_name_template(o.name); !ok)
      return report_error("convert", ok.error());
  }

  auto inputs = dicom::list_inputs(o.inputs);
  if (!inputs) return report_error("convert", inputs.error());
  if (inputs->empty()) {
    return report_error("convert", core::error::make(core::error_code::not_found,
                                                     "no input files found (empty folder?)"));
  }
  if (!o.shard.empty()) {
    // The key is the slice identity when the file name is "<pid>_<inst>.<ext>" (as
    // download --keep-dicom writes: the same shard as download's), else the input's
    // relative path.
    auto shard = pipeline::parse_shard(o.shard);
    if (!shard) return report_error("convert", shard.error());
    const auto all = inputs->size();
    std::erase_if(*inputs, [&](const dicom::batch_input& in) {
      const auto name = in.path.filename().string();
      auto id = core::parse_slice_identity(name);
      const auto key = id && name.starts_with(core::to_string(*id) + ".")
                           ? core::to_string(*id)
                           : in.relative.generic_string();
      return pipeline::shard_of_key(key, shard->count) != shard->index;
    });
    fmt::print("Shard {}/{}: {} of {} inputs\n", shard->index, shard->count, inputs->size(), all);
  }
  auto progress = make_progress("convert", inputs->size(), o.common.quiet);
  b.progress = progress.get();
  auto result = dicom::convert_batch(*inputs, b);
  progress->finish();
  if (!result) return report_error("convert", result.error());

  for (const auto& item : result->items) {
    if (item.outcome == dicom::convert_outcome::failed) {
      print_warning("convert", fmt::format("failed: {}", item.reason));
    } else if (!o.common.quiet) {
      for (const auto& w : item.warnings)
        print_warning("convert", fmt::format("'{}': {}", item.input.string(), w));
    }
  }
  if (!o.log.empty()) {
    if (auto ok = core::write_file_atomic(o.log, dicom::to_json_lines(*result)); !ok) {
      return report_error("convert", ok.error());
    }
  }
  const auto total = result->items.size();
  fmt::print("Converted: {}\n", result->converted);
  fmt::print("Already present: {}\n", result->already_present);
  fmt::print("Skipped (slice thickness): {}\n", result->skipped_thickness);
  fmt::print("Skipped (not an image): {}\n", result->skipped_not_image);
  fmt::print("Failed: {}\n", result->failed);
  fmt::print("Total: {}\n", total);
  fmt::print("Output: {}\n", o.output_dir.string());
  if (result->failed == 0) return exit_ok;
  return result->failed == total ? exit_bad_input : exit_partial;
}

run_function setup_convert(CLI::App& app) {
  auto o = std::make_shared<convert_cli_options>();
  app.add_option("inputs", o->inputs, "DICOM files or folders (recursive)")->required();
  app.add_option("-o,--output-dir", o->output_dir, "Folder for the PNGs")->required();
  app.add_option("--name", o->name,
                 "Output name template, e.g. {patient_id}_{instance} (fields: patient_id, "
                 "instance, stem; default: the input's relative path with .png)");
  app.add_option("--window", o->window,
                 "header (default), brain, subdural, bone, multi, or C/W such as 40/80")
      ->capture_default_str();
  app.add_option("--color", o->color, "gray or rgb")
      ->check(CLI::IsMember({"gray", "rgb"}))
      ->capture_default_str();
  app.add_option("--bit-depth", o->bit_depth, "8, or 16 (HU + 1024, no window)")
      ->check(CLI::IsMember({8, 16}))
      ->capture_default_str();
  app.add_option("--thickness", o->thickness, "Accepted slice thicknesses in mm (+-0.1)")
      ->capture_default_str();
  app.add_flag("--no-filter-thickness", o->no_filter_thickness, "Keep every slice thickness");
  app.add_option("--frame", o->frame, "Frame of a multi-frame object (0-based)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--log", o->log, "Write one JSON line per input to this file");
  app.add_flag("--overwrite", o->overwrite, "Redo PNGs that are already complete");
  app.add_option("--shard", o->shard, "Convert only part K of N of the inputs (K/N, 0 <= K < N)");
  add_jobs_option(app, o->common);
  add_quiet_option(app, o->common);
  return [o] { return run_convert(*o); };
}

const registrar reg{{"convert", "Convert DICOM files or folders to windowed PNG", setup_convert}};

}  // namespace
}  // namespace ctprep::cli
