// `report`: one self-contained HTML page per release. Everything is inline: CSS, SVG
// charts drawn here (svg.hpp), thumbnails as data: URIs; no script, no font, no network
// (a Content-Security-Policy in the page forbids any). The numbers come from
// analyze_dataset; the page adds box statistics, patients, contact sheets, and the
// validation and evaluation results when given. Same inputs and seed give the same bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"
#include "ctprep/core/identity.hpp"

namespace ctprep::report {

enum class negative_kind { fp, tn };

struct html_report_options {
  std::filesystem::path dataset_dir;      // train/valid/test split folders (or one flat folder)
  std::filesystem::path evaluation_dir;   // optional: `ctprep evaluate --out` (metrics.json)
  std::filesystem::path validation_json;  // optional: `ctprep validate --json` output
  std::filesystem::path output;           // report.html (written atomically)
  std::uint64_t seed = 42;                // which slices the contact sheets show
  // Optional: which no-hemorrhage slices the feedback CSV calls FP or TN. Without it the
  // FP/TN split comes from metadata.yaml's balance record, when there is one.
  std::map<core::slice_id, negative_kind> feedback;
  int samples_per_class = 12;    // thumbnails per class sheet (and the negatives sheet)
  int augmentation_samples = 4;  // originals shown beside their augmented versions
  int thumbnail_side = 176;      // pixels, longer side
  int jpeg_quality = 82;
  unsigned jobs = 0;  // decode threads, 0: all cores; the page does not depend on it
};

struct html_report_result {
  std::filesystem::path output;
  std::uint64_t bytes = 0;
  std::size_t thumbnails = 0;
  std::vector<std::string> sections;  // ids of the sections the page holds, in page order
  std::vector<std::string> warnings;  // inputs given but not usable, images not decodable
};

// The page as text. `info` (optional) receives what write_html_report returns, minus
// the output path and size. Fails when the dataset cannot be read (as analyze does),
// or a given validation JSON / evaluation folder cannot be read or parsed.
[[nodiscard]] core::result<std::string> render_html_report(const html_report_options& options,
                                                           html_report_result* info = nullptr);

// render_html_report, then an atomic write to options.output.
[[nodiscard]] core::result<html_report_result> write_html_report(
    const html_report_options& options);

// The contact-sheet picker: up to `count` indices into `keys`, chosen by a seeded draw
// per key (core::rng for (seed, salt + key)), so the choice depends on the keys, the
// seed and the salt, never on the keys' order. Returned in draw order.
[[nodiscard]] std::vector<std::size_t> pick_samples(std::span<const std::string> keys,
                                                    std::size_t count, std::uint64_t seed,
                                                    std::string_view salt);

}  // namespace ctprep::report
