// The DICOM -> PNG converter download uses, and its options (--window,
// --no-filter-thickness). Until the dicom module is in the build, conversion reports
// that it is unavailable and --no-convert is the only mode.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "ctprep/core/error.hpp"
#include "ctprep/pipeline/download.hpp"

namespace ctprep::cli {

struct download_convert_options {
  std::string window = "header";
  bool no_filter_thickness = false;
};

inline void add_download_convert_options(CLI::App& app, download_convert_options& o) {
  app.add_option("--window", o.window, "Window: header, brain, subdural, bone, multi or C/W")
      ->capture_default_str();
  app.add_flag("--no-filter-thickness", o.no_filter_thickness,
               "Keep every slice whatever its thickness");
}

inline core::result<pipeline::converter> make_download_converter(const download_convert_options&) {
  return core::fail(core::error_code::internal,
                    "DICOM conversion is not in this build yet: use --no-convert --keep-dicom DIR");
}

}  // namespace ctprep::cli
