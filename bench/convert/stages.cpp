// Per-stage throughput of the DICOM -> PNG path on one thread: header scan, decode,
// window (modality LUT + VOI + padding) and PNG encode, each timed over every file given
// (files are read into memory first, so disk time is excluded), in CPU seconds. No anchor publishes
// these figures; they show where the time of `ctprep convert` goes.
// Usage: bench_convert_stages FILE... ; prints one JSON object.
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <time.h>

#include "ctprep/core/files.hpp"
#include "ctprep/dicom/header.hpp"
#include "ctprep/dicom/pixels.hpp"
#include "ctprep/imaging/codec.hpp"

namespace {
// CPU time of this (single-threaded) process: the machine is shared, and wall time would
// count other people's work.
struct clock_type {
  using time_point = double;
  static double now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
};
double seconds_since(double t) {
  return clock_type::now() - t;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace ctprep;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    auto bytes = core::read_file(argv[i]);
    if (!bytes) {
      std::fprintf(stderr, "%s\n", bytes.error().message.c_str());
      return 1;
    }
    files.push_back(std::move(*bytes));
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: bench_convert_stages FILE...\n");
    return 2;
  }
  const dicom::convert_options options;
  std::size_t png_bytes = 0;
  double header_s = 0, decode_s = 0, window_s = 0, encode_s = 0;
  // Slice by slice, as convert runs, with each stage timed on its own.
  for (const auto& f : files) {
    auto t = clock_type::now();
    auto h = dicom::parse_header(f, "bench");
    header_s += seconds_since(t);
    if (!h) return 1;
    t = clock_type::now();
    auto frame = dicom::decode_frame(f, *h, 0, "bench");
    decode_s += seconds_since(t);
    if (!frame) {
      std::fprintf(stderr, "%s\n", frame.error().message.c_str());
      return 1;
    }
    t = clock_type::now();
    auto r = dicom::render(*frame, *h, options, "bench");
    window_s += seconds_since(t);
    if (!r) return 1;
    t = clock_type::now();
    imaging::image_u8 img{r->width, r->height, r->channels, std::move(r->pixels8)};
    auto png = imaging::encode_png_fast(img);
    encode_s += seconds_since(t);
    if (!png) return 1;
    png_bytes += png->size();
  }

  const double n = static_cast<double>(files.size());
  std::printf(
      "{\"slices\":%zu,\"header_scan_per_s\":%.0f,\"decode_per_s\":%.0f,\"window_per_s\":%.0f,"
      "\"encode_per_s\":%.0f,\"mean_png_bytes\":%.0f}\n",
      files.size(), n / header_s, n / decode_s, n / window_s, n / encode_s,
      static_cast<double>(png_bytes) / n);
  return 0;
}
