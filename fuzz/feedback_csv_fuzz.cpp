// Any byte string given to the feedback CSV reader ends in a table or an error naming a
// line, never a crash, a hang or undefined behaviour; and what it reads is consistent:
// every slice once, every id digits only (so no file name built from it can escape a
// folder), every record counted exactly once.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "ctprep/pipeline/feedback_csv.hpp"

namespace {
bool digits_only(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const bool need_url : {true, false}) {
    auto table = ctprep::pipeline::parse_feedback_csv(text, "fuzz-input", need_url);
    if (!table) continue;
    std::set<std::string> seen;
    for (const auto& row : table->rows) {
      if (!digits_only(row.id.patient) || !digits_only(row.id.instance)) __builtin_trap();
      if (!seen.insert(row.id.patient + "_" + row.id.instance).second) __builtin_trap();
    }
    // Each record is exactly one of: a slice's first row, a repeat, an invalid id, or
    // another classification.
    if (table->rows.size() + table->duplicates + table->invalid.size() + table->other_class !=
        table->records) {
      __builtin_trap();
    }
  }
  return 0;
}
