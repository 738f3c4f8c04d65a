// Resolving predictions, binary "any hemorrhage" rates, the confusion matrix and the
// feedback classes: the parts of evaluate that are not COCOeval.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include <fmt/format.h>

#include "ctprep/core/files.hpp"
#include "ctprep/pipeline/feedback_csv.hpp"
#include "ctprep/report/evaluate.hpp"

namespace ctprep::report {

core::result<resolved_predictions> resolve_predictions(const core::dataset& gt,
                                                       coco::result_set results,
                                                       bool ignore_unknown,
                                                       std::string_view origin) {
  std::unordered_map<std::int64_t, std::size_t> ids;
  ids.reserve(gt.images.size());
  for (std::size_t i = 0; i < gt.images.size(); ++i) ids.emplace(gt.images[i].id, i);
  // A name-keyed file: name -> image id through the dataset's file names.
  std::vector<std::int64_t> name_to_id;
  if (!results.file_names.empty()) {
    std::unordered_map<std::string_view, std::int64_t> by_name;
    by_name.reserve(gt.images.size());
    for (const auto& im : gt.images) by_name.emplace(im.file_name, im.id);
    name_to_id.reserve(results.file_names.size());
    for (const auto& n : results.file_names) {
      const auto it = by_name.find(n);
      name_to_id.push_back(it == by_name.end() ? coco::detection::no_image : it->second);
    }
  }
  std::unordered_map<std::int64_t, bool> categories;
  for (const auto& c : gt.categories) categories.emplace(c.id, true);

  resolved_predictions out;
  std::vector<std::string> unknown_images, unknown_categories;
  const auto note = [](std::vector<std::string>& list, std::string what) {
    if (list.size() < 5 && std::find(list.begin(), list.end(), what) == list.end()) {
      list.push_back(std::move(what));
    }
  };
  auto& dets = results.detections;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < dets.size(); ++i) {
    coco::detection d = dets[i];
    bool known_image = true;
    if (d.name_index != coco::detection::no_name) {
      d.image_id = name_to_id[d.name_index];
      if (d.image_id == coco::detection::no_image) {
        known_image = false;
        note(unknown_images, fmt::format("'{}'", results.file_names[d.name_index]));
      }
    } else if (!ids.contains(d.image_id)) {
      known_image = false;
      note(unknown_images, fmt::format("{}", d.image_id));
    }
    const bool known_category = categories.contains(d.category_id);
    if (!known_category) note(unknown_categories, fmt::format("{}", d.category_id));
    if (!known_image) ++out.unknown_image;
    if (!known_category) ++out.unknown_category;
    if (known_image && known_category) dets[kept++] = d;
  }
  dets.resize(kept);
  if (!ignore_unknown && (out.unknown_image > 0 || out.unknown_category > 0)) {
    std::string message = fmt::format("'{}':", origin);
    if (!unknown_images.empty()) {
      message += fmt::format(" {} detection(s) name images not in the split (first: {})",
                             out.unknown_image, fmt::join(unknown_images, ", "));
    }
    if (!unknown_categories.empty()) {
      std::vector<std::int64_t> known;
      for (const auto& c : gt.categories) known.push_back(c.id);
      message += fmt::format(
          "{} {} detection(s) name category ids not in the dataset (first: {}; categories are "
          "matched by id and the dataset has ids {})",
          unknown_images.empty() ? "" : ";", out.unknown_category,
          fmt::join(unknown_categories, ", "), fmt::join(known, ", "));
    }
    message += "; pass --ignore-unknown to drop them";
    return core::fail(core::error_code::bad_coco, message);
  }
  out.detections = std::move(dets);
  return out;
}

rate wilson_rate(std::uint64_t numerator, std::uint64_t denominator) {
  rate r{numerator, denominator, std::nullopt, std::nullopt, std::nullopt};
  if (denominator == 0) return r;
  constexpr double z = 1.959963984540054;  // two-sided 95%
  const double n = static_cast<double>(denominator);
  const double p = static_cast<double>(numerator) / n;
  const double z2 = z * z;
  const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z / (1 + z2 / n) * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  r.value = p;
  r.low = std::max(0.0, centre - half);
  r.high = std::min(1.0, centre + half);
  return r;
}

binary_metrics score_binary(std::span<const double> scores, std::span<const bool> positive,
                            std::span<const double> thresholds) {
  binary_metrics out;
  std::vector<double> pos, neg;
  for (std::size_t i = 0; i < scores.size(); ++i) (positive[i] ? pos : neg).push_back(scores[i]);
  out.positives = pos.size();
  out.negatives = neg.size();
  if (!pos.empty() && !neg.empty()) {
    // Mann-Whitney U by merging the two sorted lists; ties count one half.
    std::sort(pos.begin(), pos.end());
    std::sort(neg.begin(), neg.end());
    double u = 0;
    std::size_t below = 0, equal_end = 0;
    for (double s : pos) {
      while (below < neg.size() && neg[below] < s) ++below;
      equal_end = std::max(equal_end, below);
      while (equal_end < neg.size() && neg[equal_end] == s) ++equal_end;
      u += static_cast<double>(below) + 0.5 * static_cast<double>(equal_end - below);
    }
    out.roc_auc = u / (static_cast<double>(pos.size()) * static_cast<double>(neg.size()));
  }
  for (double t : thresholds) {
    binary_at_threshold b;
    b.threshold = t;
    for (std::size_t i = 0; i < scores.size(); ++i) {
      const bool predicted = scores[i] >= t;
      if (positive[i])
        (predicted ? b.tp : b.fn) += 1;
      else
        (predicted ? b.fp : b.tn) += 1;
    }
    b.sensitivity = wilson_rate(b.tp, b.tp + b.fn);
    b.specificity = wilson_rate(b.tn, b.tn + b.fp);
    b.ppv = wilson_rate(b.tp, b.tp + b.fp);
    b.npv = wilson_rate(b.tn, b.tn + b.fn);
    if (b.tp + b.fp + b.fn > 0) {
      b.f1 = 2.0 * static_cast<double>(b.tp) / static_cast<double>(2 * b.tp + b.fp + b.fn);
    }
    out.at.push_back(b);
  }
  return out;
}

confusion_matrix compute_confusion(const core::dataset& gt,
                                   std::span<const coco::detection> detections, double iou,
                                   double score_threshold) {
  confusion_matrix cm;
  cm.iou = iou;
  cm.score_threshold = score_threshold;
  std::vector<std::size_t> order(gt.categories.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return gt.categories[a].id < gt.categories[b].id;
  });
  std::unordered_map<std::int64_t, std::size_t> cat;
  for (std::size_t k = 0; k < order.size(); ++k) {
    cm.labels.push_back(gt.categories[order[k]].name);
    cat.emplace(gt.categories[order[k]].id, k);
  }
  cm.labels.emplace_back("background");
  const std::size_t n = cm.labels.size(), bg = n - 1;
  cm.counts.assign(n * n, 0);

  std::unordered_map<std::int64_t, std::size_t> image;
  for (std::size_t i = 0; i < gt.images.size(); ++i) image.emplace(gt.images[i].id, i);
  std::vector<std::vector<std::uint32_t>> gts(gt.images.size()), dts(gt.images.size());
  for (std::size_t i = 0; i < gt.annotations.size(); ++i) {
    gts[image.at(gt.annotations[i].image_id)].push_back(static_cast<std::uint32_t>(i));
  }
  for (std::size_t i = 0; i < detections.size(); ++i) {
    if (detections[i].score >= score_threshold) {
      dts[image.at(detections[i].image_id)].push_back(static_cast<std::uint32_t>(i));
    }
  }
  struct pair {
    double iou;
    std::uint32_t g, d;
  };
  std::vector<pair> pairs;
  for (std::size_t im = 0; im < gt.images.size(); ++im) {
    std::vector<std::uint32_t> real;
    std::vector<std::uint32_t> crowd;
    for (auto a : gts[im]) (gt.annotations[a].iscrowd ? crowd : real).push_back(a);
    pairs.clear();
    for (std::uint32_t g = 0; g < real.size(); ++g) {
      for (std::uint32_t d = 0; d < dts[im].size(); ++d) {
        const auto& gb = gt.annotations[real[g]].bbox;
        const auto& db = detections[dts[im][d]].bbox;
        const double w = std::fmin(db.x + db.w, gb.x + gb.w) - std::fmax(db.x, gb.x);
        const double h = std::fmin(db.y + db.h, gb.y + gb.h) - std::fmax(db.y, gb.y);
        if (w <= 0 || h <= 0) continue;
        const double inter = w * h;
        const double v = inter / (db.w * db.h + gb.w * gb.h - inter);
        if (v >= iou) pairs.push_back({v, g, d});
      }
    }
    std::stable_sort(pairs.begin(), pairs.end(),
                     [](const pair& a, const pair& b) { return a.iou > b.iou; });
    std::vector<char> g_used(real.size()), d_used(dts[im].size());
    for (const auto& p : pairs) {
      if (g_used[p.g] || d_used[p.d]) continue;
      g_used[p.g] = d_used[p.d] = 1;
      const auto truth = cat.at(gt.annotations[real[p.g]].category_id);
      const auto predicted = cat.at(detections[dts[im][p.d]].category_id);
      ++cm.counts[truth * n + predicted];
    }
    for (std::uint32_t g = 0; g < real.size(); ++g) {
      if (!g_used[g]) ++cm.counts[cat.at(gt.annotations[real[g]].category_id) * n + bg];
    }
    for (std::uint32_t d = 0; d < dts[im].size(); ++d) {
      if (d_used[d]) continue;
      const auto& det = detections[dts[im][d]];
      bool in_crowd = false;
      for (auto a : crowd) {
        const auto& gb = gt.annotations[a].bbox;
        const auto& db = det.bbox;
        const double w = std::fmin(db.x + db.w, gb.x + gb.w) - std::fmax(db.x, gb.x);
        const double h = std::fmin(db.y + db.h, gb.y + gb.h) - std::fmax(db.y, gb.y);
        if (w > 0 && h > 0 && w * h / (db.w * db.h) >= iou) in_crowd = true;
      }
      if (!in_crowd) ++cm.counts[bg * n + cat.at(det.category_id)];
    }
  }
  return cm;
}

std::string_view feedback_name(feedback_class c) noexcept {
  switch (c) {
    case feedback_class::fp_history:
      return "fp_history";
    case feedback_class::tn:
      return "tn";
    case feedback_class::not_in_feedback:
      return "not_in_feedback";
  }
  return "not_in_feedback";
}

core::result<std::map<core::slice_id, feedback_class>> read_feedback_classes(
    const std::filesystem::path& csv_path) {
  // pipeline's reader: RFC 4180, one entry per slice, FP if any of its rows says FP.
  auto table = pipeline::read_feedback_csv(csv_path, /*need_url=*/false);
  if (!table) return tl::unexpected(table.error());
  std::map<core::slice_id, feedback_class> out;
  for (const auto& row : table->rows) {
    out.emplace(row.id, row.cls == pipeline::feedback_class::fp ? feedback_class::fp_history
                                                                : feedback_class::tn);
  }
  return out;
}

}  // namespace ctprep::report
