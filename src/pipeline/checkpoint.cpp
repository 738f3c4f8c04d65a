#include "ctprep/pipeline/checkpoint.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <simdjson.h>

#include "ctprep/core/files.hpp"
#include "ctprep/core/json_writer.hpp"
#include "ctprep/pipeline/manifest.hpp"

namespace ctprep::pipeline {
namespace fs = std::filesystem;

core::result<run_checkpoints> load_checkpoints(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return run_checkpoints{};
  auto text = core::read_file(path);
  if (!text) return tl::unexpected(text.error());
  simdjson::dom::parser parser;
  simdjson::padded_string padded(*text);
  simdjson::dom::object stages;
  if (parser.parse(padded)["stages"].get(stages)) {
    return core::fail(core::error_code::malformed_json,
                      fmt::format("'{}' is not a ctprep checkpoint file; delete it to start over",
                                  path.string()));
  }
  run_checkpoints out;
  for (auto [name, value] : stages) {
    stage_checkpoint s;
    std::string_view text_value;
    std::int64_t code = 0;
    if (!value["fingerprint"].get(text_value)) s.fingerprint = std::string(text_value);
    if (!value["status"].get(text_value)) s.status = std::string(text_value);
    if (!value["exit_code"].get(code)) s.exit_code = static_cast<int>(code);
    out.stages.emplace(std::string(name), std::move(s));
  }
  return out;
}

core::result<void> save_checkpoints(const fs::path& path, const run_checkpoints& checkpoints) {
  core::json_writer w(1);
  w.begin_object();
  w.key("stages");
  w.begin_object();
  for (const auto& [name, s] : checkpoints.stages) {
    w.key(name);
    w.begin_object();
    w.field("fingerprint", s.fingerprint);
    w.field("status", s.status);
    w.field("exit_code", s.exit_code);
    w.end_object();
  }
  w.end_object();
  w.end_object();
  return core::write_file_atomic(path, w.take());
}

namespace {

bool hashed_by_content(const fs::path& p) {
  const auto ext = p.extension().string();
  return ext == ".json" || ext == ".yaml" || ext == ".yml" || ext == ".csv";
}

core::result<void> describe(const fs::path& input, const std::vector<std::string>& ignore,
                            std::string& out) {
  std::error_code ec;
  if (!fs::exists(input, ec)) {
    out += fmt::format("missing {}\n", input.string());
    return {};
  }
  if (fs::is_regular_file(input, ec)) {
    auto digest = sha256_file(input);
    if (!digest) return tl::unexpected(digest.error());
    out += fmt::format("file {} {}\n", input.string(), *digest);
    return {};
  }
  std::vector<std::string> lines;
  for (auto it = fs::recursive_directory_iterator(input, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.starts_with(".")) {  // temp files and our own .ctprep folder
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    if (std::find(ignore.begin(), ignore.end(), name) != ignore.end()) continue;
    const auto rel = it->path().lexically_relative(input).generic_string();
    std::string line = fmt::format("{} {}", rel, it->file_size(ec));
    if (hashed_by_content(it->path())) {
      auto digest = sha256_file(it->path());
      if (!digest) return tl::unexpected(digest.error());
      line += " " + *digest;
    }
    lines.push_back(std::move(line));
  }
  if (ec) {
    return core::fail(core::error_code::io_error,
                      fmt::format("cannot list '{}': {}", input.string(), ec.message()));
  }
  std::sort(lines.begin(), lines.end());
  out += fmt::format("dir {}\n", input.string());
  for (const auto& l : lines) out += l + "\n";
  return {};
}

}  // namespace

core::result<std::string> fingerprint(const std::vector<fs::path>& inputs, std::string_view options,
                                      const std::vector<std::string>& ignore) {
  std::string text = fmt::format("options {}\n", options);
  for (const auto& input : inputs) {
    if (auto ok = describe(input, ignore, text); !ok) return tl::unexpected(ok.error());
  }
  return sha256_hex(text);
}

}  // namespace ctprep::pipeline
