// Any byte string given to the predictions (COCO results) reader ends in detections or an
// error, never a crash, a hang or undefined behaviour; the reader's parallel path (the
// text cut into runs of whole detections) gives the very result and error message of the
// whole-text parse; and what it accepts goes through resolve_predictions and COCOeval on
// a small dataset to metrics in [0, 1].
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctprep/coco/results.hpp"
#include "ctprep/core/dataset.hpp"
#include "ctprep/report/evaluate.hpp"

namespace {

ctprep::core::dataset make_ground_truth() {
  using namespace ctprep::core;
  dataset d;
  d.categories = {{1, "EDH", "", {}}, {2, "SDH", "", {}}, {3, "IPH", "", {}}};
  // Image 3 has no annotation (a negative slice); ids from 0 as Roboflow writes them.
  d.images = {{0, "a.png", 512, 512, {}}, {1, "b.png", 512, 512, {}}, {3, "c.png", 512, 512, {}}};
  d.annotations = {{0, 0, 1, {10, 10, 20, 20}, 400, 0, {}},
                   {1, 0, 2, {100, 100, 120, 80}, 9600, 0, {}},
                   {2, 1, 2, {5, 5, 300, 300}, 90000, 1, {}},
                   {3, 1, 3, {50, 60, 40, 40}, 1600, 0, {}}};
  return d;
}

bool same(const ctprep::coco::result_set& a, const ctprep::coco::result_set& b) {
  if (a.file_names != b.file_names || a.detections.size() != b.detections.size()) return false;
  for (std::size_t i = 0; i < a.detections.size(); ++i) {
    const auto &x = a.detections[i], &y = b.detections[i];
    if (x.image_id != y.image_id || x.name_index != y.name_index ||
        x.category_id != y.category_id || !(x.bbox == y.bbox) || x.score != y.score) {
      return false;
    }
  }
  return true;
}

bool in_unit_range(const std::optional<double>& v) {
  return !v || (*v >= 0.0 && *v <= 1.0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ctprep::core::dataset ground_truth = make_ground_truth();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto whole = ctprep::coco::parse_results(text, "fuzz-input", 1);
  // Runs of ~24 bytes: even a small input is cut wherever "}, {" appears.
  auto cut = ctprep::coco::parse_results(text, "fuzz-input", 1, 24);
  if (whole.has_value() != cut.has_value()) __builtin_trap();
  if (!whole) {
    if (whole.error().code != cut.error().code || whole.error().message != cut.error().message) {
      __builtin_trap();
    }
    return 0;
  }
  if (!same(*whole, *cut)) __builtin_trap();

  auto resolved =
      ctprep::report::resolve_predictions(ground_truth, std::move(*whole), true, "fuzz-input");
  if (!resolved) return 0;
  const auto metrics = ctprep::report::evaluate_coco(ground_truth, resolved->detections,
                                                     ctprep::report::default_coco_params(), 1);
  for (const auto& s : metrics.stats) {
    if (!in_unit_range(s)) __builtin_trap();
  }
  for (const auto& c : metrics.classes) {
    if (!in_unit_range(c.ap) || !in_unit_range(c.ap50) || !in_unit_range(c.ar100)) {
      __builtin_trap();
    }
  }
  return 0;
}
