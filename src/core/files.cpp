#include "ctprep/core/files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace ctprep::core {
namespace fs = std::filesystem;

result<std::string> read_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return fail(error_code::not_found, fmt::format("'{}' does not exist", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(error_code::io_error,
                fmt::format("cannot open '{}': {}", path.string(), std::strerror(errno)));
  }
  std::string bytes;
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) {
    return fail(error_code::io_error, fmt::format("cannot read '{}'", path.string()));
  }
  bytes.resize(static_cast<std::size_t>(size));
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in) return fail(error_code::io_error, fmt::format("cannot read '{}'", path.string()));
  return bytes;
}

result<void> write_file_atomic(const fs::path& path, std::string_view bytes) {
  std::error_code ec;
  const auto parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  // A unique temp name in the same folder, so the rename is atomic (same filesystem).
  std::string temp = (parent / fmt::format(".{}.tmp.{}.{}", path.filename().string(), ::getpid(),
                                           std::random_device{}()))
                         .string();
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fail(error_code::not_writable,
                fmt::format("cannot write '{}': {}", path.string(), std::strerror(errno)));
  }
  const char* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const auto n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return fail(error_code::not_writable,
                  fmt::format("cannot write '{}': {}", path.string(), std::strerror(saved)));
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 || std::rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temp.c_str());
    return fail(error_code::not_writable,
                fmt::format("cannot write '{}': {}", path.string(), std::strerror(saved)));
  }
  return {};
}

result<std::vector<fs::path>> list_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return fail(error_code::not_found, fmt::format("folder '{}' does not exist", dir.string()));
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path());
  }
  if (ec) {
    return fail(error_code::io_error,
                fmt::format("cannot list '{}': {}", dir.string(), ec.message()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool has_image_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

}  // namespace ctprep::core
