#pragma once

#include <vector>

#include "cli/command.hpp"
#include "cli/s3_access.hpp"
#include "ctprep/pipeline/synth_store.hpp"

namespace ctprep::cli {

// Subcommands of `ctprep synth`; register with
// `const synth_registrar r{{"dicom", "summary", setup}};` in synth_<name>.cpp.
[[nodiscard]] std::vector<command>& synth_registry();

struct synth_registrar {
  explicit synth_registrar(command c) { synth_registry().push_back(std::move(c)); }
};

// The object store of a synthetic world (synth_store.cpp): `synth store` and
// `synth world --with-store` take the same options and print the same summary.
struct store_cli_options {
  pipeline::store_options store;
  s3_access_options s3;
  common_options common;
};
void add_store_options(CLI::App& app, store_cli_options& o);
// "" or an s3:// URL (trailing '/' dropped); anything else is bad_argument.
[[nodiscard]] core::result<void> check_store_url(std::string& url_base);
[[nodiscard]] int write_store(const char* cmd, store_cli_options& o);

}  // namespace ctprep::cli
