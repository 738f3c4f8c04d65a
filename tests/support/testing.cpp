#include "support/testing.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/classes.hpp"
#include "ctprep/imaging/codec.hpp"

namespace ctprep::testing {
namespace fs = std::filesystem;

temp_dir::temp_dir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / fmt::format("ctprep-test-{}-{:08x}", ::getpid(), rd());
  fs::create_directories(path_);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  // Tests may make folders read-only; make them writable again so they can go.
  for (fs::recursive_directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
  }
  fs::remove_all(path_, ec);
}

namespace {
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out.push_back(c);
  }
  return out + "'";
}
}  // namespace

int start_ctprep(std::vector<std::string> args) {
  std::string binary = CTPREP_BINARY;
  std::vector<char*> argv{binary.data()};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    ::execv(binary.c_str(), argv.data());
    std::_Exit(127);
  }
  return pid;
}

run_result run_ctprep(const std::vector<std::string>& args) {
  temp_dir scratch;
  const auto out_file = scratch / "stdout", err_file = scratch / "stderr";
  std::string command = shell_quote(CTPREP_BINARY);
  for (const auto& a : args) command += " " + shell_quote(a);
  command += " >" + shell_quote(out_file.string()) + " 2>" + shell_quote(err_file.string()) +
             " </dev/null";
  const int status = std::system(command.c_str());
  run_result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(out_file);
  r.err = read_text(err_file);
  return r;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void write_test_image(const fs::path& path, int width, int height, unsigned char seed) {
  auto image = imaging::make_image(width, height, 1);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.row(y)[x] = static_cast<std::uint8_t>((x * 3 + y * 5 + seed * 7) & 0xFF);
    }
  }
  const auto ext = path.extension().string();
  auto bytes =
      (ext == ".jpg" || ext == ".jpeg") ? imaging::encode_jpeg(image) : imaging::encode_png(image);
  if (!bytes) throw std::runtime_error(bytes.error().message);
  write_text(path, *bytes);
}

void write_split(const fs::path& split_dir, const core::dataset& data, unsigned first_seed) {
  fs::create_directories(split_dir);
  auto seed = static_cast<unsigned char>(first_seed & 0xFF);
  for (const auto& im : data.images) {
    write_test_image(split_dir / im.file_name, static_cast<int>(im.width),
                     static_cast<int>(im.height), seed++);
  }
  auto ok = coco::write_file(split_dir / coco::annotations_file_name, data);
  if (!ok) throw std::runtime_error(ok.error().message);
}

core::dataset make_dataset(const std::vector<test_image>& images, bool four_class, int size) {
  core::dataset d;
  d.categories = four_class ? core::make_categories(core::four_class_names)
                            : core::make_categories(core::six_class_names);
  std::int64_t image_id = 0, annotation_id = 0;
  for (const auto& t : images) {
    d.images.push_back({image_id, t.file_name, size, size, {}});
    for (const auto& [category, b] : t.boxes) {
      d.annotations.push_back({annotation_id++, image_id, category, b, b.w * b.h, 0, {}});
    }
    ++image_id;
  }
  return d;
}

}  // namespace ctprep::testing
