// File helpers every module shares: whole-file reads, atomic writes (temp file in the
// same folder, then rename: a killed run never leaves a half-written file under its
// final name), and listing a folder deterministically.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"

namespace ctprep::core {

[[nodiscard]] result<std::string> read_file(const std::filesystem::path& path);
// The same into `bytes`, whose capacity is reused (a loop over many files allocates once).
[[nodiscard]] result<void> read_file_into(const std::filesystem::path& path, std::string& bytes);

// Writes `bytes` to `path` atomically; creates missing parent folders.
[[nodiscard]] result<void> write_file_atomic(const std::filesystem::path& path,
                                             std::string_view bytes);

// Regular files (following symlinks) directly in `dir`, sorted by name.
[[nodiscard]] result<std::vector<std::filesystem::path>> list_files(
    const std::filesystem::path& dir);

// True when the name ends in an image extension we read (.png .jpg .jpeg, any case).
[[nodiscard]] bool has_image_extension(const std::filesystem::path& path);

}  // namespace ctprep::core
