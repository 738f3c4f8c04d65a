// ctprep synth: generators of test and demo data. Each generator is a subcommand that
// registers itself from its own file (synth_<name>.cpp) through synth_registry().
#include "cli/synth.hpp"

#include <algorithm>
#include <memory>

namespace ctprep::cli {

std::vector<command>& synth_registry() {
  static std::vector<command> generators;
  return generators;
}

namespace {

run_function setup_synth(CLI::App& app) {
  app.require_subcommand(1);
  auto& generators = synth_registry();
  std::sort(generators.begin(), generators.end(),
            [](const command& a, const command& b) { return a.name < b.name; });
  auto runs = std::make_shared<std::vector<std::pair<CLI::App*, run_function>>>();
  for (const auto& g : generators) {
    auto* sub = app.add_subcommand(g.name, g.summary);
    runs->emplace_back(sub, g.setup(*sub));
  }
  return [runs]() -> int {
    for (auto& [sub, run] : *runs) {
      if (sub->parsed()) return run();
    }
    return exit_usage;
  };
}

const registrar reg{{"synth", "Generate synthetic data: DICOM series, source worlds", setup_synth}};

}  // namespace
}  // namespace ctprep::cli
