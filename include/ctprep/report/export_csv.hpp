// `export-csv`: one row per image of a dataset with the seed's columns, in order:
// patient_id, instance_no, filename, split, source, the six has_<class> flags,
// has_no_hemorrhage, total_hemorrhages_on_image, modelVersion. RFC 4180 (CRLF, quoted
// where needed); rows in split order (train, valid, test), then by file name.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"

namespace ctprep::report {

inline constexpr std::string_view export_columns[] = {
    "patient_id",
    "instance_no",
    "filename",
    "split",
    "source",
    "has_intraparenchymal_hemorrhage",
    "has_intraventricular_hemorrhage",
    "has_subarachnoid_hemorrhage",
    "has_epidural_hemorrhage",
    "has_subdural_hemorrhage",
    "has_hemorrhage_contusion",
    "has_no_hemorrhage",
    "total_hemorrhages_on_image",
    "modelVersion",
};

// Quotes a field when RFC 4180 requires it (comma, quote, CR or LF inside).
[[nodiscard]] std::string csv_field(std::string_view text);

// The whole CSV text; fails with bad_identity naming the first file that the identity
// rule cannot read. `model_version` fills the modelVersion column.
[[nodiscard]] core::result<std::string> export_csv(const std::filesystem::path& dataset_dir,
                                                   std::string_view model_version);

// The dataset's version from its metadata.yaml ("version: v4"), if it has one.
[[nodiscard]] std::string dataset_version(const std::filesystem::path& dataset_dir);

}  // namespace ctprep::report
