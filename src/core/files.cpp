#include "ctprep/core/files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace ctprep::core {
namespace fs = std::filesystem;

result<void> read_file_into(const fs::path& path, std::string& bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return fail(error_code::not_found, fmt::format("'{}' does not exist", path.string()));
    }
    return fail(error_code::io_error,
                fmt::format("cannot open '{}': {}", path.string(), std::strerror(errno)));
  }
  const auto failed = [&](int why) -> result<void> {
    ::close(fd);
    return fail(error_code::io_error,
                fmt::format("cannot read '{}': {}", path.string(), std::strerror(why)));
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0) return failed(errno);
  if (S_ISDIR(st.st_mode)) return failed(EISDIR);
  // A regular file is read to its size; a pipe or device (/dev/stdin, /dev/null) to its end.
  const bool sized = S_ISREG(st.st_mode);
  bytes.resize(sized ? static_cast<std::size_t>(st.st_size) : 64 * 1024);
  std::size_t done = 0;
  while (!sized || done < bytes.size()) {
    if (done == bytes.size()) bytes.resize(bytes.size() * 2);
    const auto got = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return failed(errno);
    if (got == 0) {
      if (sized) return failed(EIO);  // the file shrank while we read it
      break;
    }
    done += static_cast<std::size_t>(got);
  }
  bytes.resize(done);
  ::close(fd);
  return {};
}

result<std::string> read_file(const fs::path& path) {
  std::string bytes;
  auto read = read_file_into(path, bytes);
  if (!read) return tl::unexpected(read.error());
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
