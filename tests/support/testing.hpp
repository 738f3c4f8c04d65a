// What the tests share: a temporary folder per test, running the built binary, and
// writing small COCO datasets with real image files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ctprep/core/dataset.hpp"

namespace ctprep::testing {

// A fresh folder under the system temp dir, removed when the object dies.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const {
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

struct run_result {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the built ctprep with the arguments (each one shell-quoted), capturing output.
[[nodiscard]] run_result run_ctprep(const std::vector<std::string>& args);
// Starts the built ctprep with the arguments, its output sent to /dev/null, without
// waiting (for tests that kill it half-way). Returns the child's pid, or -1.
[[nodiscard]] int start_ctprep(std::vector<std::string> args);

[[nodiscard]] std::string read_text(const std::filesystem::path& path);
void write_text(const std::filesystem::path& path, const std::string& text);

// Writes a gray PNG (or JPEG when the name ends in .jpg) of the size, with a pattern.
void write_test_image(const std::filesystem::path& path, int width, int height,
                      unsigned char seed = 0);

// Writes `data` as the split's _annotations.coco.json and a test image for every entry.
// Image i gets the pattern seed `first_seed + i` (mod 256): give each split its own
// range when pixels must differ across splits (validate compares pixel hashes).
void write_split(const std::filesystem::path& split_dir, const core::dataset& data,
                 unsigned first_seed = 0);

// A 6-class dataset entry helper: an image and its boxes (category ids 0..5).
struct test_image {
  std::string file_name;
  std::vector<std::pair<std::int64_t, core::box>> boxes;  // (category id, box)
};
[[nodiscard]] core::dataset make_dataset(const std::vector<test_image>& images,
                                         bool four_class = false, int size = 64);

}  // namespace ctprep::testing
