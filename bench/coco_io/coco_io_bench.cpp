// COCO I/O benchmark driver.
//   coco_io_bench generate FILE      a train-split-sized COCO file (34,440 images, 35,000 boxes)
//   coco_io_bench read FILE [N]      median seconds of N in-process reads
//   coco_io_bench write FILE OUT [N] median seconds of N in-process writes (to OUT)
//   coco_io_bench read-once FILE     one read, for peak-memory measurement
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/classes.hpp"
#include "ctprep/core/rng.hpp"

namespace {

using namespace ctprep;

core::dataset generate() {
  core::dataset d;
  d.info = R"({"description":"ctprep benchmark: a v4-sized train split","version":"4"})";
  d.categories = core::make_categories(core::six_class_names);
  core::rng r(42);
  const std::int64_t images = 34440, annotations = 35000;
  for (std::int64_t i = 0; i < images; ++i) {
    const auto patient = 500000000 + r.below(3000) * 7919;
    const auto instance = r.below(40);
    const char* source = i % 3 == 0 ? "roboflow_" : "v3_thick_";
    std::string name = fmt::format("{}{}_{}", source, patient, instance);
    if (i % 3 == 0) name += fmt::format("_png.rf.{:016x}", r.next());
    name += fmt::format("_aug{}.jpg", i % 3);
    d.images.push_back({i, name, 512, 512, {}});
  }
  for (std::int64_t a = 0; a < annotations; ++a) {
    const double x = r.uniform(0, 400), y = r.uniform(0, 400);
    const double w = r.uniform(5, 100), h = r.uniform(5, 100);
    d.annotations.push_back({a,
                             static_cast<std::int64_t>(r.below(images)),
                             static_cast<std::int64_t>(r.below(6)),
                             {x, y, w, h},
                             w * h,
                             0,
                             {}});
  }
  return d;
}

template <typename F>
double median_seconds(int n, F&& f) {
  std::vector<double> times;
  for (int i = 0; i < n; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

int fail(const core::error& e) {
  fmt::print(stderr, "{}\n", e.message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr, "usage: coco_io_bench generate|read|write|read-once FILE [OUT] [N]\n");
    return 2;
  }
  const std::string mode = argv[1], file = argv[2];
  if (mode == "generate") {
    auto ok = coco::write_file(file, generate());
    return ok ? 0 : fail(ok.error());
  }
  if (mode == "read-once") {
    auto d = coco::read_file(file);
    return d ? 0 : fail(d.error());
  }
  if (mode == "read") {
    const int n = argc > 3 ? std::stoi(argv[3]) : 11;
    std::size_t images = 0;
    const double s = median_seconds(n, [&] {
      auto d = coco::read_file(file);
      if (!d) std::exit(fail(d.error()));
      images = d->images.size();
    });
    fmt::print("{:.6f}\n", s);
    return images > 0 ? 0 : 1;
  }
  if (mode == "write" && argc > 3) {
    auto d = coco::read_file(file);
    if (!d) return fail(d.error());
    const int n = argc > 4 ? std::stoi(argv[4]) : 11;
    const double s = median_seconds(n, [&] {
      auto ok = coco::write_file(argv[3], *d);
      if (!ok) std::exit(fail(ok.error()));
    });
    fmt::print("{:.6f}\n", s);
    return 0;
  }
  fmt::print(stderr, "unknown mode '{}'\n", mode);
  return 2;
}
