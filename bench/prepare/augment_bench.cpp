// Augmentation throughput of ctprep (the code prepare [8/9] runs) on a split folder:
// decode once, make versions 1..N, encode, write; prints {"outputs": n, "seconds": s}.
// usage: augment_bench SPLIT_DIR OUT_DIR [LIMIT] [VERSIONS] [JOBS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/core/parallel.hpp"
#include "ctprep/imaging/augment.hpp"

namespace fs = std::filesystem;
using namespace ctprep;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: augment_bench SPLIT_DIR OUT_DIR [LIMIT] [VERSIONS] [JOBS]\n");
    return 2;
  }
  const fs::path split = argv[1], out = argv[2];
  const std::size_t limit = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 0;
  const int versions = argc > 4 ? std::atoi(argv[4]) : 2;
  const unsigned jobs = argc > 5 ? static_cast<unsigned>(std::atoi(argv[5])) : 2;
  auto data = coco::read_file(split / coco::annotations_file_name);
  if (!data) {
    std::fprintf(stderr, "%s\n", data.error().message.c_str());
    return 1;
  }
  std::map<std::int64_t, std::vector<imaging::labeled_box>> boxes;
  for (const auto& a : data->annotations) boxes[a.image_id].push_back({a.category_id, a.bbox});
  auto images = data->images;
  std::sort(images.begin(), images.end(),
            [](const auto& a, const auto& b) { return a.file_name < b.file_name; });
  if (limit > 0 && images.size() > limit) {  // an evenly spaced sample: every source is in it
    std::vector<core::image> sample;
    for (std::size_t i = 0; i < limit; ++i) sample.push_back(images[i * images.size() / limit]);
    images = std::move(sample);
  }
  fs::create_directories(out);
  imaging::use_single_thread();
  std::vector<std::size_t> written(images.size());
  const auto start = std::chrono::steady_clock::now();
  const std::vector<imaging::labeled_box> no_boxes;
  core::parallel_for(images.size(), jobs, [&](std::size_t i) {
    const auto& im = images[i];
    // find, not operator[]: an image without boxes must not insert into the shared map
    // from two threads at once.
    const auto found = boxes.find(im.id);
    auto bytes = core::read_file(split / im.file_name);
    if (!bytes) return;
    const bool png = fs::path(im.file_name).extension() == ".png";
    auto made = imaging::augment_encoded(
        *bytes, im.file_name, found == boxes.end() ? no_boxes : found->second, 42, im.file_name, 1,
        versions, png ? imaging::encoding::png : imaging::encoding::jpeg, 95);
    if (!made) return;
    const auto stem = fs::path(im.file_name).stem().string(),
               ext = fs::path(im.file_name).extension().string();
    for (const auto& v : *made) {
      if (v.dropped) continue;
      std::ofstream f(out / (stem + "_aug" + std::to_string(v.version) + ext), std::ios::binary);
      f.write(v.bytes.data(), static_cast<std::streamsize>(v.bytes.size()));
      ++written[i];
    }
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::size_t total = 0;
  for (auto w : written) total += w;
  std::printf("{\"outputs\": %zu, \"seconds\": %.3f, \"images\": %zu}\n", total, seconds,
              images.size());
  return 0;
}
