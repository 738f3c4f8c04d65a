// The command registry and what every command shares: exit codes, error printing and
// progress output. This folder is the only code that prints or exits.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "ctprep/core/error.hpp"
#include "ctprep/core/progress.hpp"

namespace ctprep::cli {

// DESIGN.md's exit-code table, documented in docs/cli.md.
enum exit_code : int {
  exit_ok = 0,
  exit_internal = 1,
  exit_usage = 2,
  exit_not_found = 3,
  exit_bad_input = 4,
  exit_not_writable = 5,
  exit_network = 6,
  exit_validation_failed = 7,
  exit_partial = 8,
};

[[nodiscard]] int exit_code_for(const core::error& error);

// Prints "ctprep <command>: <message>" on stderr and returns exit_code_for(error).
int report_error(std::string_view command, const core::error& error);

// A command adds its options to its CLI11 subcommand and returns the function that
// runs it once the command line is parsed.
using run_function = std::function<int()>;
struct command {
  std::string name;
  std::string summary;
  std::function<run_function(CLI::App&)> setup;
};

[[nodiscard]] std::vector<command>& registry();

// Runs one command line (without the program name) through the full command tree.
int dispatch(const std::vector<std::string>& args);

// `static registrar r{{"name", "summary", setup}};` in a command's file registers it.
struct registrar {
  explicit registrar(command c) { registry().push_back(std::move(c)); }
};

// Options most commands take.
struct common_options {
  bool quiet = false;
  unsigned jobs = 0;
};
void add_quiet_option(CLI::App& app, common_options& options);
void add_jobs_option(CLI::App& app, common_options& options);

// A progress object writing to stderr: a live bar on a terminal, plain lines otherwise,
// nothing with --quiet.
[[nodiscard]] std::unique_ptr<core::progress> make_progress(std::string label, std::uint64_t total,
                                                            bool quiet);

// Human-readable output goes to stdout; warnings and errors to stderr.
void print_warning(std::string_view command, std::string_view message);

}  // namespace ctprep::cli
