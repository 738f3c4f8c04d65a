#include "ctprep/core/files.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "support/testing.hpp"

namespace ctprep::core {
namespace {
namespace fs = std::filesystem;

TEST(write_file_atomic, replaces_the_file_and_leaves_no_temp_file) {
  testing::temp_dir dir;
  const auto path = dir / "sub" / "out.txt";
  ASSERT_TRUE(write_file_atomic(path, "first"));
  ASSERT_TRUE(write_file_atomic(path, "second"));
  EXPECT_EQ(testing::read_text(path), "second");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(path.parent_path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(write_file_atomic, fails_with_not_writable_and_keeps_the_old_file) {
  if (::geteuid() == 0) {
    // root ignores permission bits; use a path whose parent is a file instead.
    testing::temp_dir dir;
    testing::write_text(dir / "file", "x");
    auto r = write_file_atomic(dir / "file" / "out.txt", "y");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, error_code::not_writable);
    EXPECT_NE(r.error().message.find("out.txt"), std::string::npos);
    return;
  }
  testing::temp_dir dir;
  const auto path = dir / "ro" / "out.txt";
  ASSERT_TRUE(write_file_atomic(path, "old"));
  fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  auto r = write_file_atomic(path, "new");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, error_code::not_writable);
  EXPECT_EQ(testing::read_text(path), "old");
}

TEST(read_file, names_a_missing_file) {
  auto r = read_file("/nonexistent/ctprep/x.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, error_code::not_found);
  EXPECT_EQ(r.error().message, "not_found: '/nonexistent/ctprep/x.json' does not exist");
}

TEST(read_file, reads_every_byte_into_a_reused_buffer_reads_a_device_and_names_a_folder) {
  testing::temp_dir dir;
  std::string big(300'000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 % 251);
  testing::write_text(dir / "big.bin", big);
  testing::write_text(dir / "small.bin", std::string("\x00\xFF\x01", 3));
  std::string buffer;
  ASSERT_TRUE(read_file_into(dir / "big.bin", buffer));
  EXPECT_EQ(buffer, big);
  ASSERT_TRUE(read_file_into(dir / "small.bin", buffer));  // shorter: no stale tail
  EXPECT_EQ(buffer, std::string("\x00\xFF\x01", 3));
  // A device or pipe is read to its end (a credentials file given as /dev/null).
  ASSERT_TRUE(read_file_into("/dev/null", buffer));
  EXPECT_EQ(buffer, "");
  fs::create_directory(dir / "folder");
  auto r = read_file_into(dir / "folder", buffer);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, error_code::io_error);
  EXPECT_NE(r.error().message.find("folder': Is a directory"), std::string::npos)
      << r.error().message;
}

TEST(list_files, lists_regular_files_sorted_and_names_a_missing_folder) {
  testing::temp_dir dir;
  testing::write_text(dir / "b.png", "");
  testing::write_text(dir / "a.png", "");
  fs::create_directory(dir / "sub");
  auto files = list_files(dir.path());
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].filename(), "a.png");
  EXPECT_EQ((*files)[1].filename(), "b.png");
  auto missing = list_files(dir / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, error_code::not_found);
}

TEST(has_image_extension, accepts_png_and_jpeg_in_any_case) {
  EXPECT_TRUE(has_image_extension("a.PNG"));
  EXPECT_TRUE(has_image_extension("a.jpeg"));
  EXPECT_TRUE(has_image_extension("a.Jpg"));
  EXPECT_FALSE(has_image_extension("a.json"));
  EXPECT_FALSE(has_image_extension("png"));
}

}  // namespace
}  // namespace ctprep::core
