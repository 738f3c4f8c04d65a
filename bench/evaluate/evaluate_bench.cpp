// Times the two halves of `ctprep evaluate` on the benchmark inputs: parsing the
// predictions (simdjson) and COCOeval; prints "parse_s eval_s resolve_s" as medians.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "ctprep/coco/coco.hpp"
#include "ctprep/coco/results.hpp"
#include "ctprep/report/evaluate.hpp"

int main(int argc, char** argv) {
  using namespace ctprep;
  if (argc < 3) {
    std::fprintf(stderr, "usage: evaluate_bench SPLIT_JSON PREDICTIONS [RUNS] [JOBS]\n");
    return 2;
  }
  const int runs = argc > 3 ? std::atoi(argv[3]) : 3;
  const unsigned jobs = argc > 4 ? static_cast<unsigned>(std::atoi(argv[4])) : 0;
  auto gt = coco::read_file(argv[1]);
  if (!gt) {
    std::fprintf(stderr, "%s\n", gt.error().message.c_str());
    return 1;
  }
  std::vector<double> parse, resolve, eval;
  std::size_t n = 0;
  double ap = 0;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto results = coco::read_results(argv[2]);
    const auto t1 = std::chrono::steady_clock::now();
    if (!results) {
      std::fprintf(stderr, "%s\n", results.error().message.c_str());
      return 1;
    }
    auto dets = report::resolve_predictions(*gt, std::move(*results), false, argv[2]);
    const auto t2 = std::chrono::steady_clock::now();
    if (!dets) {
      std::fprintf(stderr, "%s\n", dets.error().message.c_str());
      return 1;
    }
    const auto m =
        report::evaluate_coco(*gt, dets->detections, report::default_coco_params(), jobs);
    const auto t3 = std::chrono::steady_clock::now();
    n = dets->detections.size();
    ap = m.stats[0].value_or(-1);
    parse.push_back(std::chrono::duration<double>(t1 - t0).count());
    resolve.push_back(std::chrono::duration<double>(t2 - t1).count());
    eval.push_back(std::chrono::duration<double>(t3 - t2).count());
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("%.6f %.6f %.6f %zu %.6f\n", median(parse), median(eval), median(resolve), n, ap);
  return 0;
}
