// Checkpoints of `ctprep run`: <data-root>/.ctprep/run.json records, per stage, a
// fingerprint of its inputs and options and how it ended. A re-run skips a stage whose
// fingerprint did not change and that finished; anything else runs again (each stage is
// itself resumable: download keeps finished slices, prepare swaps its output in whole).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ctprep/core/error.hpp"

namespace ctprep::pipeline {

struct stage_checkpoint {
  std::string fingerprint;
  std::string status;  // "done", "failed", "running"
  int exit_code = 0;
};

struct run_checkpoints {
  std::map<std::string, stage_checkpoint> stages;
};

// A missing file is an empty record (a first run); a broken one is an error naming it.
[[nodiscard]] core::result<run_checkpoints> load_checkpoints(const std::filesystem::path& path);
[[nodiscard]] core::result<void> save_checkpoints(const std::filesystem::path& path,
                                                  const run_checkpoints& checkpoints);

// SHA-256 over `options` and the inputs: a file by its bytes; a folder by its tree of
// names and sizes, plus the bytes of its .json, .yaml and .csv files (images are
// identified by name and size, which is what the stages read them by); a missing path
// as missing. Files named in `ignore` are left out wherever they are.
[[nodiscard]] core::result<std::string> fingerprint(
    const std::vector<std::filesystem::path>& inputs, std::string_view options,
    const std::vector<std::string>& ignore = {});

}  // namespace ctprep::pipeline
