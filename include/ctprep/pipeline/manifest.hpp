// The release manifest: what a run produced, with a SHA-256 of every output file, so
// a release can be checked later (`ctprep verify-manifest`). Written next to the
// datasets as manifest.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ctprep/core/error.hpp"

namespace ctprep::pipeline {

inline constexpr std::string_view manifest_file_name = "manifest.json";

// SHA-256 of a file's bytes as lower-case hex (OpenSSL; never our own crypto).
[[nodiscard]] core::result<std::string> sha256_file(const std::filesystem::path& path);
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

struct manifest_entry {
  std::string path;    // relative to the manifest's folder, '/'-separated
  std::string sha256;  // of the bytes (a symlink: of the bytes it points at)
  std::uint64_t size = 0;
  std::string link;  // a symlink's target as written, empty for a regular file
};

struct stage_record {
  std::string name;
  std::string status;  // done, skipped (up to date), failed
  double seconds = 0;  // wall time; the only field that varies run to run
  std::map<std::string, std::uint64_t> counts;
};

struct manifest {
  std::string tool_version;
  std::string recipe_digest;
  std::uint64_t seed = 0;
  std::vector<stage_record> stages;
  std::vector<manifest_entry> files;  // sorted by path
};

// Every file under `root` (recursively, symlinks recorded as links), except the
// manifest itself and dot-folders such as .ctprep; hashed in parallel.
[[nodiscard]] core::result<std::vector<manifest_entry>> hash_tree(const std::filesystem::path& root,
                                                                  unsigned jobs = 0);

[[nodiscard]] std::string to_json(const manifest& m);
[[nodiscard]] core::result<manifest> parse_manifest(std::string_view json, std::string_view origin);

struct manifest_difference {
  std::string path;
  std::string problem;  // "missing", "changed", "extra", "link changed"
};

// Compares `root` with root/manifest.json; an empty list means the release is intact.
[[nodiscard]] core::result<std::vector<manifest_difference>> verify_manifest(
    const std::filesystem::path& root, unsigned jobs = 0);

}  // namespace ctprep::pipeline
