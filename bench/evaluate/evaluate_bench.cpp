// Times the two halves of `ctprep evaluate` on the benchmark inputs: parsing the
// predictions (simdjson) and COCOeval; prints, as medians of RUNS, "parse_s eval_s
// resolve_s detections AP parse_cpu_s eval_cpu_s" (wall seconds, then CPU seconds of
// the whole process during each step, which a loaded machine inflates less).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "ctprep/coco/coco.hpp"
#include "ctprep/coco/results.hpp"
#include "ctprep/report/evaluate.hpp"

namespace {
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

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
  std::vector<double> parse, resolve, eval, parse_cpu, eval_cpu;
  std::size_t n = 0;
  double ap = 0;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    auto results = coco::read_results(argv[2]);
    const auto t1 = std::chrono::steady_clock::now();
    parse_cpu.push_back(cpu_seconds() - c0);
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
    eval_cpu.push_back(cpu_seconds() - c0 - parse_cpu.back());
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
  std::printf("%.6f %.6f %.6f %zu %.6f %.6f %.6f\n", median(parse), median(eval), median(resolve),
              n, ap, median(parse_cpu), median(eval_cpu));
  return 0;
}
