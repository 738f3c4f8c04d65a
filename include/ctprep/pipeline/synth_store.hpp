// An object store for a synthetic world (`ctprep synth store`, `synth world --with-store`):
// the DICOM slices the feedback CSV lists but the pool lacks, written as
// <store>/dicom/<patient>/<instance>.dcm, and the CSV's image_url of those rows rewritten
// to point at them: file:// URLs by default (then `ctprep download`, `ctprep run` and
// `make demo` run offline and without credentials on the same code path as against S3),
// or <url_base>/dicom/<patient>/<instance>.dcm when the store is uploaded to a bucket.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "ctprep/core/error.hpp"

namespace ctprep::pipeline {

struct store_options {
  std::filesystem::path data_root;        // a world written by `synth world`
  std::filesystem::path store_dir;        // where the DICOMs go
  std::size_t tn_rows = 120;              // every FP row, then this many TN rows in CSV order
  double wrong_thickness_fraction = 0.1;  // share of slices the thickness filter skips
  std::uint64_t seed = 42;
  unsigned jobs = 0;
  // "" for file:// URLs; else the URL the store folder is served at, e.g.
  // "s3://demo-bucket" or "s3://bucket/prefix" (no trailing '/').
  std::string url_base;
};

struct store_summary {
  std::size_t objects = 0;          // DICOM files written
  std::size_t wrong_thickness = 0;  // of which have a rejected slice thickness
  std::size_t bytes = 0;
  // Each object's file and the URL the CSV now lists for it (what an upload sends where).
  std::vector<std::pair<std::filesystem::path, std::string>> objects_written;
};

[[nodiscard]] core::result<store_summary> write_synthetic_store(const store_options& options);

}  // namespace ctprep::pipeline
