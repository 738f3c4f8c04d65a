// ctprep: builds brain-CT hemorrhage detection datasets. Each command lives in its own
// file in this folder and registers itself (command.hpp).
#include <algorithm>
#include <exception>

#include <fmt/format.h>

#include "cli/command.hpp"

namespace ctprep::cli {

// Builds the whole command tree and runs one command line. `ctprep run` calls this for
// each stage, so a stage behaves exactly as the command typed by hand.
int dispatch(const std::vector<std::string>& args) {
  CLI::App app{"ctprep: build brain-CT hemorrhage detection datasets (COCO) from hospital data",
               "ctprep"};
  app.set_version_flag("-V,--version", std::string("ctprep ") + CTPREP_VERSION);
  app.require_subcommand(0, 1);
  app.footer(
      "Run 'ctprep help <command>' or 'ctprep <command> --help' for a command's options.\n"
      "Exit codes: 0 ok, 1 internal, 2 usage, 3 input not found, 4 bad input,\n"
      "5 output not writable, 6 network/auth, 7 validation failed, 8 partial success.");

  auto& commands = registry();
  std::sort(commands.begin(), commands.end(),
            [](const command& a, const command& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, run_function>> runs;
  for (const auto& c : commands) {
    auto* sub = app.add_subcommand(c.name, c.summary);
    runs.emplace_back(sub, c.setup(*sub));
  }

  std::string help_topic;
  auto* help = app.add_subcommand("help", "Show the help of a command");
  help->add_option("command", help_topic, "The command");

  try {
    // CLI11 takes the arguments in reverse order, without the program name.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  }

  if (help->parsed()) {
    if (help_topic.empty()) {
      fmt::print("{}", app.help());
      return exit_ok;
    }
    for (auto& [sub, run] : runs) {
      if (sub->get_name() == help_topic) {
        fmt::print("{}", sub->help());
        return exit_ok;
      }
    }
    fmt::print(stderr, "ctprep help: no command named '{}'\n", help_topic);
    return exit_usage;
  }
  for (auto& [sub, run] : runs) {
    if (sub->parsed()) return run();
  }
  fmt::print("{}", app.help());
  return exit_usage;
}

}  // namespace ctprep::cli

int main(int argc, char** argv) {
  try {
    return ctprep::cli::dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    fmt::print(stderr, "ctprep: internal error: {}\n", e.what());
    return ctprep::cli::exit_internal;
  } catch (...) {
    fmt::print(stderr, "ctprep: internal error\n");
    return ctprep::cli::exit_internal;
  }
}
