#pragma once

#include <vector>

#include "cli/command.hpp"

namespace ctprep::cli {

// Subcommands of `ctprep synth`; register with
// `const synth_registrar r{{"dicom", "summary", setup}};` in synth_<name>.cpp.
[[nodiscard]] std::vector<command>& synth_registry();

struct synth_registrar {
  explicit synth_registrar(command c) { synth_registry().push_back(std::move(c)); }
};

}  // namespace ctprep::cli
