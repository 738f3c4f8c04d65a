// The DICOM -> PNG options download shares with convert (--window, --color,
// --no-filter-thickness) and the converter they make.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "ctprep/core/error.hpp"
#include "ctprep/dicom/convert.hpp"
#include "ctprep/pipeline/download.hpp"

namespace ctprep::cli {

struct download_convert_options {
  std::string window = "header";
  std::string color = "gray";
  bool no_filter_thickness = false;
};

inline void add_download_convert_options(CLI::App& app, download_convert_options& o) {
  app.add_option("--window", o.window,
                 "Window: header (file's first, else brain), brain, subdural, bone, multi or C/W")
      ->capture_default_str();
  app.add_option("--color", o.color, "gray or rgb")
      ->check(CLI::IsMember({"gray", "rgb"}))
      ->capture_default_str();
  app.add_flag("--no-filter-thickness", o.no_filter_thickness,
               "Keep every slice whatever its thickness (default: 5.0 or 5.5 mm +-0.1)");
}

inline core::result<pipeline::converter> make_download_converter(
    const download_convert_options& o) {
  auto window = dicom::parse_window(o.window);
  if (!window) return tl::unexpected(window.error());
  dicom::convert_options options;
  options.window = *window;
  options.colour = o.color == "rgb" ? dicom::colour_mode::rgb : dicom::colour_mode::gray;
  options.filter_thickness = !o.no_filter_thickness;
  return pipeline::dicom_converter(options);
}

}  // namespace ctprep::cli
