#include "cli/command.hpp"

#include <cstdio>
#include <memory>

#include <unistd.h>

#include <fmt/format.h>

namespace ctprep::cli {

int exit_code_for(const core::error& error) {
  using core::error_code;
  switch (error.code) {
    case error_code::not_found:
      return exit_not_found;
    case error_code::io_error:
    case error_code::malformed_json:
    case error_code::bad_coco:
    case error_code::bad_identity:
    case error_code::bad_image:
    case error_code::corrupt_dicom:
    case error_code::unsupported_dicom:
    case error_code::bad_csv:
    case error_code::bad_recipe:
      return exit_bad_input;
    case error_code::bad_argument:
      return exit_usage;
    case error_code::not_writable:
      return exit_not_writable;
    case error_code::network:
    case error_code::auth:
      return exit_network;
    case error_code::validation_failed:
      return exit_validation_failed;
    case error_code::cancelled:
    case error_code::internal:
      return exit_internal;
  }
  return exit_internal;
}

int report_error(std::string_view command, const core::error& error) {
  fmt::print(stderr, "ctprep {}: {}\n", command, error.message);
  return exit_code_for(error);
}

void print_warning(std::string_view command, std::string_view message) {
  fmt::print(stderr, "ctprep {}: warning: {}\n", command, message);
}

std::vector<command>& registry() {
  static std::vector<command> commands;
  return commands;
}

void add_quiet_option(CLI::App& app, common_options& options) {
  app.add_flag("-q,--quiet", options.quiet, "No progress output");
}

void add_jobs_option(CLI::App& app, common_options& options) {
  app.add_option("-j,--jobs", options.jobs, "Worker threads (0: all cores)")->capture_default_str();
}

std::unique_ptr<core::progress> make_progress(std::string label, std::uint64_t total, bool quiet) {
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  const auto style = quiet      ? core::progress_style::quiet
                     : terminal ? core::progress_style::bar
                                : core::progress_style::plain;
  return std::make_unique<core::progress>(std::move(label), total, style,
                                          [](std::string_view line, bool transient) {
                                            if (transient) {
                                              fmt::print(stderr, "\r\033[K{}", line);
                                            } else {
                                              fmt::print(stderr, "\r\033[K{}\n", line);
                                            }
                                            std::fflush(stderr);
                                          });
}

}  // namespace ctprep::cli
