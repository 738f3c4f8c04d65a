// The feedback CSV of SPEC 1 (metadata/no_hemorrhage_positive_feedback.csv): which
// no-hemorrhage slices the model flagged (False Positive, high priority) or got right
// (True Negative, low priority), and where each slice's DICOM lives.
// Read as RFC 4180 (quoted fields with "" escapes and line breaks, CRLF or LF, UTF-8
// BOM, spaces around fields trimmed) by a single pass over the bytes: the real file has
// about 325,000 rows and is read well under a second.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"
#include "ctprep/core/identity.hpp"

namespace ctprep::pipeline {

enum class feedback_class { fp, tn };

[[nodiscard]] std::string_view feedback_class_name(feedback_class c) noexcept;  // "FP" / "TN"

struct feedback_row {
  std::size_t line = 0;  // 1-based line of the record's start in the file (header is line 1)
  core::slice_id id;     // canonical digits
  feedback_class cls = feedback_class::tn;
  std::string url;  // image_url, trimmed
};

struct invalid_row {
  std::size_t line = 0;
  std::string reason;  // "patient_id 'abc' is not a number", ...
};

struct feedback_table {
  // One entry per slice, in CSV order of the slice's first row. A slice listed several
  // times is read once; it is FP if any of its rows says FP.
  std::vector<feedback_row> rows;
  std::size_t records = 0;           // data records in the file (header excluded)
  std::size_t other_class = 0;       // records whose classification_result is neither FP nor TN
  std::size_t duplicates = 0;        // records naming a slice already read
  std::vector<invalid_row> invalid;  // records with a bad patient_id / instance_no (skipped)
  [[nodiscard]] std::size_t count(feedback_class c) const noexcept;
};

// classification_result values (compared after trimming, case-insensitively):
// "False Positive (FP)" or "FP" -> fp; "True Negative (TN)" or "TN" -> tn.
// patient_id / instance_no: digits (an integral float such as "14.0", as pandas may
// write, is accepted). A missing required column is bad_csv naming the column; a
// quote left open or a stray quote inside an unquoted field is bad_csv naming the line.
// image_url is required only when `need_url` (download needs it, prepare does not).
[[nodiscard]] core::result<feedback_table> parse_feedback_csv(std::string_view text,
                                                              std::string_view origin,
                                                              bool need_url = true);
[[nodiscard]] core::result<feedback_table> read_feedback_csv(const std::filesystem::path& path,
                                                             bool need_url = true);

}  // namespace ctprep::pipeline
