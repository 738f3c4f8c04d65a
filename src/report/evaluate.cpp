// evaluate(): loads the split and the predictions, runs every metric, and renders the
// text, JSON and --out files.
#include "ctprep/report/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/coco/layout.hpp"
#include "ctprep/core/classes.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/core/json_writer.hpp"
#include "ctprep/imaging/draw.hpp"

namespace ctprep::report {
namespace {

constexpr double no_score = -std::numeric_limits<double>::infinity();

coco_params params_for(const evaluate_request& r) {
  auto p = default_coco_params();
  p.annotation_id_zero_unmatched = r.pycocotools_id0;
  return p;
}

core::result<core::dataset> load_split(const std::filesystem::path& dir, const std::string& split) {
  auto splits = coco::find_splits(dir);
  if (!splits) return tl::unexpected(splits.error());
  std::vector<std::string> names;
  for (const auto& s : *splits) {
    names.push_back(s.name);
    if (s.name != split) continue;
    auto data = coco::read_file(s.json_path);
    if (!data) return tl::unexpected(data.error());
    if (data->images.empty()) {
      return core::fail(core::error_code::bad_coco,
                        fmt::format("split '{}' of '{}' has no images: nothing to evaluate "
                                    "('{}')",
                                    split, dir.string(), s.json_path.string()));
    }
    if (data->categories.empty()) {
      return core::fail(core::error_code::bad_coco,
                        fmt::format("'{}' has no categories", s.json_path.string()));
    }
    return data;
  }
  return core::fail(core::error_code::not_found,
                    fmt::format("'{}' has no split '{}' (it has: {})", dir.string(), split,
                                fmt::join(names, ", ")));
}

struct image_scores {
  std::vector<double> max_score;          // per gt.images index; -inf without detections
  std::vector<bool> positive;             // any annotation
  std::vector<std::uint64_t> detections;  // per image
  std::vector<std::int64_t> top_category;
};

image_scores score_images(const core::dataset& gt, std::span<const coco::detection> dets) {
  image_scores s;
  const std::size_t n = gt.images.size();
  s.max_score.assign(n, no_score);
  s.positive.assign(n, false);
  s.detections.assign(n, 0);
  s.top_category.assign(n, -1);
  std::unordered_map<std::int64_t, std::size_t> index;
  index.reserve(n);
  for (std::size_t i = 0; i < n; ++i) index.emplace(gt.images[i].id, i);
  for (const auto& a : gt.annotations) s.positive[index.at(a.image_id)] = true;
  for (const auto& d : dets) {
    const auto i = index.at(d.image_id);
    ++s.detections[i];
    if (d.score > s.max_score[i]) {
      s.max_score[i] = d.score;
      s.top_category[i] = d.category_id;
    }
  }
  return s;
}

std::string category_name(const core::dataset& gt, std::int64_t id) {
  for (const auto& c : gt.categories) {
    if (c.id == id) return c.name;
  }
  return {};
}

// The 4-class view of a 6-class split (SPEC prepare [9/9]): EDH and HC boxes dropped,
// an image left without boxes that had some dropped, categories by name, image ids kept.
core::dataset collapse_to_four(const core::dataset& six) {
  core::dataset four;
  four.categories = core::make_categories(core::four_class_names);
  std::unordered_map<std::int64_t, std::int64_t> remap;
  for (const auto& c : six.categories) {
    for (const auto& f : four.categories) {
      if (f.name == c.name) remap.emplace(c.id, f.id);
    }
  }
  std::set<std::int64_t> had, kept;
  for (const auto& a : six.annotations) {
    had.insert(a.image_id);
    const auto it = remap.find(a.category_id);
    if (it == remap.end()) continue;
    auto b = a;
    b.category_id = it->second;
    four.annotations.push_back(b);
    kept.insert(a.image_id);
  }
  for (const auto& im : six.images) {
    if (had.contains(im.id) && !kept.contains(im.id)) continue;
    four.images.push_back(im);
  }
  return four;
}

binary_metrics binary_of(const std::vector<double>& scores, const std::vector<bool>& positive,
                         std::span<const double> thresholds) {
  const std::unique_ptr<bool[]> flags(new bool[positive.size()]);
  for (std::size_t i = 0; i < positive.size(); ++i) flags[i] = positive[i];
  return score_binary(scores, std::span<const bool>(flags.get(), positive.size()), thresholds);
}

model_summary summarize_model(std::string label, std::string file, const core::dataset& gt,
                              std::span<const coco::detection> dets,
                              std::span<const double> thresholds, const coco_params& params,
                              unsigned jobs) {
  model_summary m;
  m.label = std::move(label);
  m.predictions = std::move(file);
  m.detections = dets.size();
  m.coco = evaluate_coco(gt, dets, params, jobs);
  const auto s = score_images(gt, dets);
  m.image_level = binary_of(s.max_score, s.positive, thresholds);
  return m;
}

core::result<comparison> compare_four(const evaluate_request& r, const core::dataset& six_gt,
                                      std::span<const coco::detection> six_dets) {
  comparison cmp;
  // The 4-class ground truth: the 4-class dataset's split when there is one, else the
  // 6-class split collapsed the way prepare derives it.
  std::filesystem::path four_dir = r.dataset_4class_dir;
  if (four_dir.empty()) {
    auto name = r.dataset_dir.filename().string();
    if (name.empty()) name = r.dataset_dir.parent_path().filename().string();
    if (const auto at = name.find("6class"); at != std::string::npos) {
      name.replace(at, 6, "4class");
      const auto candidate = r.dataset_dir.lexically_normal().parent_path() / name;
      std::error_code ec;
      if (std::filesystem::is_directory(candidate, ec)) four_dir = candidate;
    }
  }
  core::dataset four_gt;
  if (!four_dir.empty()) {
    auto loaded = load_split(four_dir, r.split);
    if (!loaded) return tl::unexpected(loaded.error());
    four_gt = std::move(*loaded);
    cmp.ground_truth = four_dir.string();
  } else {
    four_gt = collapse_to_four(six_gt);
    cmp.ground_truth = "the 6-class split collapsed to 4 classes";
  }
  auto four_results = coco::read_results(r.compare_predictions);
  if (!four_results) return tl::unexpected(four_results.error());
  auto four_dets = resolve_predictions(four_gt, std::move(*four_results), r.ignore_unknown,
                                       r.compare_predictions.string());
  if (!four_dets) return tl::unexpected(four_dets.error());

  // The 6-class model's detections on the same images and classes: image by file name,
  // class by name; EDH/HC detections and images absent from the 4-class split dropped.
  std::unordered_map<std::string_view, std::int64_t> four_image;
  for (const auto& im : four_gt.images) four_image.emplace(im.file_name, im.id);
  std::unordered_map<std::int64_t, std::int64_t> six_to_four_image;
  for (const auto& im : six_gt.images) {
    if (const auto it = four_image.find(im.file_name); it != four_image.end()) {
      six_to_four_image.emplace(im.id, it->second);
    }
  }
  std::unordered_map<std::int64_t, std::int64_t> six_to_four_class;
  for (const auto& c : six_gt.categories) {
    for (const auto& f : four_gt.categories) {
      if (f.name == c.name) six_to_four_class.emplace(c.id, f.id);
    }
  }
  std::vector<coco::detection> collapsed;
  for (auto d : six_dets) {
    const auto im = six_to_four_image.find(d.image_id);
    const auto cl = six_to_four_class.find(d.category_id);
    if (im == six_to_four_image.end() || cl == six_to_four_class.end()) continue;
    d.image_id = im->second;
    d.category_id = cl->second;
    collapsed.push_back(d);
  }
  cmp.four_class =
      summarize_model("4-class model", r.compare_predictions.string(), four_gt,
                      four_dets->detections, r.score_thresholds, params_for(r), r.jobs);
  cmp.six_collapsed =
      summarize_model("6-class model collapsed to 4 classes", r.predictions.string(), four_gt,
                      collapsed, r.score_thresholds, params_for(r), r.jobs);
  return cmp;
}

}  // namespace

core::result<evaluation> evaluate(const evaluate_request& r) {
  if (r.score_thresholds.empty()) {
    return core::fail(core::error_code::bad_argument, "at least one score threshold is needed");
  }
  for (double t : r.score_thresholds) {
    if (!std::isfinite(t)) {
      return core::fail(core::error_code::bad_argument, "score thresholds must be finite");
    }
  }
  if (!(r.iou > 0 && r.iou <= 1)) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("--iou must be in (0, 1], found {}", r.iou));
  }
  auto gt = load_split(r.dataset_dir, r.split);
  if (!gt) return tl::unexpected(gt.error());
  std::optional<std::map<core::slice_id, feedback_class>> feedback;
  if (!r.feedback_csv.empty()) {
    auto f = read_feedback_classes(r.feedback_csv);
    if (!f) return tl::unexpected(f.error());
    feedback = std::move(*f);
  }
  auto results = coco::read_results(r.predictions);
  if (!results) return tl::unexpected(results.error());
  auto resolved =
      resolve_predictions(*gt, std::move(*results), r.ignore_unknown, r.predictions.string());
  if (!resolved) return tl::unexpected(resolved.error());
  const auto& dets = resolved->detections;

  evaluation e;
  e.dataset_dir = r.dataset_dir.string();
  e.split = r.split;
  e.predictions = r.predictions.string();
  e.images = gt->images.size();
  e.annotations = gt->annotations.size();
  e.detections = dets.size();
  e.dropped_unknown_image = resolved->unknown_image;
  e.dropped_unknown_category = resolved->unknown_category;
  e.score_thresholds = r.score_thresholds;
  e.coco = evaluate_coco(*gt, dets, params_for(r), r.jobs);

  const double threshold = r.score_thresholds.front();
  {
    std::unordered_map<std::int64_t, std::size_t> k;
    for (std::size_t i = 0; i < e.coco.classes.size(); ++i)
      k.emplace(e.coco.classes[i].category_id, i);
    e.class_detections_at_threshold.assign(e.coco.classes.size(), 0);
    for (const auto& d : dets) {
      if (d.score >= threshold) ++e.class_detections_at_threshold[k.at(d.category_id)];
    }
  }

  // Image level, then patient level (max over the patient's slices).
  const auto s = score_images(*gt, dets);
  e.image_level = binary_of(s.max_score, s.positive, r.score_thresholds);
  std::map<std::string, std::pair<double, bool>> patients;
  std::vector<std::optional<core::slice_id>> ids(gt->images.size());
  for (std::size_t i = 0; i < gt->images.size(); ++i) {
    auto id = core::parse_slice_identity(gt->images[i].file_name);
    if (!id) {
      e.unidentified_images.push_back(gt->images[i].file_name);
      continue;
    }
    ids[i] = *id;
    auto [it, inserted] = patients.try_emplace(id->patient, s.max_score[i], s.positive[i]);
    if (!inserted) {
      it->second.first = std::max(it->second.first, s.max_score[i]);
      it->second.second = it->second.second || s.positive[i];
    }
  }
  {
    std::vector<double> ps;
    std::vector<bool> pp;
    for (const auto& [pid, v] : patients) {
      ps.push_back(v.first);
      pp.push_back(v.second);
    }
    e.patients = patients.size();
    e.patient_level = binary_of(ps, pp, r.score_thresholds);
  }

  e.confusion = compute_confusion(*gt, dets, r.iou, threshold);

  // Negatives: detections >= threshold on images without any annotation.
  {
    auto& n = e.negatives;
    n.score_threshold = threshold;
    n.feedback_known = feedback.has_value();
    const feedback_class groups[] = {feedback_class::fp_history, feedback_class::tn,
                                     feedback_class::not_in_feedback};
    std::vector<negative_group> g(4);
    for (std::size_t i = 0; i < 3; ++i) g[i].name = std::string(feedback_name(groups[i]));
    g[3].name = "all";
    std::vector<std::uint64_t> fp_per_image(gt->images.size(), 0);
    {
      std::unordered_map<std::int64_t, std::size_t> index;
      for (std::size_t i = 0; i < gt->images.size(); ++i) index.emplace(gt->images[i].id, i);
      for (const auto& d : dets) {
        if (d.score >= threshold) ++fp_per_image[index.at(d.image_id)];
      }
    }
    std::vector<negative_image> worst;
    for (std::size_t i = 0; i < gt->images.size(); ++i) {
      if (s.positive[i]) continue;
      feedback_class c = feedback_class::not_in_feedback;
      if (feedback && ids[i]) {
        if (const auto it = feedback->find(*ids[i]); it != feedback->end()) c = it->second;
      }
      for (auto* grp : {&g[static_cast<std::size_t>(c)], &g[3]}) {
        ++grp->images;
        grp->false_positives += fp_per_image[i];
        if (fp_per_image[i] > 0) ++grp->images_with_fp;
      }
      if (s.detections[i] > 0) {
        worst.push_back({gt->images[i].file_name, std::string(feedback_name(c)), s.max_score[i],
                         category_name(*gt, s.top_category[i]), fp_per_image[i]});
      }
    }
    for (auto& grp : g) grp.fp_image_rate = wilson_rate(grp.images_with_fp, grp.images);
    std::stable_sort(worst.begin(), worst.end(), [](const auto& a, const auto& b) {
      return a.max_score != b.max_score ? a.max_score > b.max_score : a.file_name < b.file_name;
    });
    if (worst.size() > r.worst) worst.resize(r.worst);
    n.groups = std::move(g);
    n.worst = std::move(worst);
  }

  for (std::size_t i = 0; i < gt->images.size(); ++i) {
    e.per_image.push_back(
        {gt->images[i].file_name, s.positive[i], s.max_score[i], s.detections[i]});
  }

  if (!r.compare_predictions.empty()) {
    auto cmp = compare_four(r, *gt, dets);
    if (!cmp) return tl::unexpected(cmp.error());
    e.compare = std::move(*cmp);
  }
  return e;
}

// ---- text ---------------------------------------------------------------------------

namespace {

std::string pct(const std::optional<double>& v, int digits = 1) {
  return v ? fmt::format("{:.{}f}%", *v * 100, digits) : std::string("n/a");
}
std::string num(const std::optional<double>& v) {
  return v ? fmt::format("{:.3f}", *v) : std::string("n/a");
}
std::string rate_text(const rate& r) {
  if (!r.value) return fmt::format("n/a (0/0)");
  return fmt::format("{} [{}–{}] ({}/{})", pct(r.value), pct(r.low), pct(r.high), r.numerator,
                     r.denominator);
}

void binary_text(std::string& out, std::string_view title, const binary_metrics& b) {
  out += fmt::format("\n{}: {} positive, {} negative, ROC AUC {}\n", title, b.positives,
                     b.negatives, num(b.roc_auc));
  for (const auto& t : b.at) {
    out += fmt::format("  score >= {}: TP {} FP {} TN {} FN {}\n", t.threshold, t.tp, t.fp, t.tn,
                       t.fn);
    out += fmt::format("    sensitivity {}\n", rate_text(t.sensitivity));
    out += fmt::format("    specificity {}\n", rate_text(t.specificity));
    out += fmt::format("    PPV         {}\n", rate_text(t.ppv));
    out += fmt::format("    NPV         {}\n", rate_text(t.npv));
    out += fmt::format("    F1          {}\n", num(t.f1));
  }
}

void coco_text(std::string& out, const coco_metrics& c) {
  static const char* labels[] = {
      "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
      "Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ]",
      "Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ]",
      "Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
      "Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
      "Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]",
      "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ]",
      "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ]",
      "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
      "Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
      "Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
      "Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]"};
  for (std::size_t i = 0; i < 12; ++i) {
    // pycocotools prints -1.000 for an undefined value; so do we, for familiarity.
    out += fmt::format(" {} = {:.3f}\n", labels[i], c.stats[i].value_or(-1.0));
  }
}

}  // namespace

std::string to_text(const evaluation& e) {
  std::string out;
  out += fmt::format("Evaluation of '{}' on split '{}' of '{}'\n", e.predictions, e.split,
                     e.dataset_dir);
  out += fmt::format("  {} images, {} ground-truth boxes, {} detections\n", e.images, e.annotations,
                     e.detections);
  if (e.dropped_unknown_image + e.dropped_unknown_category > 0) {
    out += fmt::format(
        "  dropped (--ignore-unknown): {} with unknown image, {} with unknown "
        "category\n",
        e.dropped_unknown_image, e.dropped_unknown_category);
  }
  out += "\nCOCO bbox metrics (pycocotools COCOeval semantics)\n";
  coco_text(out, e.coco);
  out +=
      fmt::format("\nPer class (detections counted at score >= {}):\n", e.score_thresholds.front());
  out += fmt::format("  {:<12} {:>6} {:>8} {:>7} {:>7} {:>7} {:>7} {:>9}\n", "class", "GT", "dets",
                     "AP", "AP50", "AP75", "AR100", "dets>=thr");
  for (std::size_t k = 0; k < e.coco.classes.size(); ++k) {
    const auto& c = e.coco.classes[k];
    if (!c.ap) continue;
    out += fmt::format("  {:<12} {:>6} {:>8} {:>7} {:>7} {:>7} {:>7} {:>9}\n", c.name,
                       c.ground_truth, c.detections, num(c.ap), num(c.ap50), num(c.ap75),
                       num(c.ar100), e.class_detections_at_threshold[k]);
  }
  bool any_no_gt = false;
  for (std::size_t k = 0; k < e.coco.classes.size(); ++k) {
    const auto& c = e.coco.classes[k];
    if (c.ap) continue;
    if (!any_no_gt) out += "  no GT in this split (every detection is a false positive):\n";
    any_no_gt = true;
    out +=
        fmt::format("  {:<12} {:>6} {:>8}   false positives: {} at any score, {} at score >= {}\n",
                    c.name, c.ground_truth, c.detections, c.detections,
                    e.class_detections_at_threshold[k], e.score_thresholds.front());
  }
  binary_text(out, "Image level, any hemorrhage", e.image_level);
  binary_text(out, fmt::format("Patient level, any hemorrhage ({} patients)", e.patients),
              e.patient_level);
  if (!e.unidentified_images.empty()) {
    out += fmt::format(
        "  {} image(s) without a patient id left out of the patient level "
        "(first: {})\n",
        e.unidentified_images.size(), e.unidentified_images.front());
  }
  const auto& cm = e.confusion;
  out += fmt::format(
      "\nConfusion matrix (rows: truth, columns: prediction; IoU >= {}, score >= "
      "{}):\n",
      cm.iou, cm.score_threshold);
  out += fmt::format("  {:<12}", "");
  for (const auto& l : cm.labels) out += fmt::format(" {:>10}", l);
  out += "\n";
  for (std::size_t i = 0; i < cm.labels.size(); ++i) {
    out += fmt::format("  {:<12}", cm.labels[i]);
    for (std::size_t j = 0; j < cm.labels.size(); ++j) out += fmt::format(" {:>10}", cm.at(i, j));
    out += "\n";
  }
  const auto& n = e.negatives;
  out += fmt::format("\nNo-hemorrhage images (false positives at score >= {}{}):\n",
                     n.score_threshold, n.feedback_known ? "" : "; no --feedback-csv given");
  for (const auto& g : n.groups) {
    if (g.images == 0 && g.name != "all") continue;
    out += fmt::format(
        "  {:<16} {:>6} images, {:>6} with a false positive ({}), {} false "
        "positives\n",
        g.name, g.images, g.images_with_fp, pct(g.fp_image_rate.value), g.false_positives);
  }
  if (!n.worst.empty()) {
    out += "  worst images (highest detection score):\n";
    for (const auto& w : n.worst) {
      out += fmt::format("    {:.3f} {:<6} {:<16} {} ({} at >= threshold)\n", w.max_score,
                         w.top_class, w.feedback, w.file_name, w.false_positives);
    }
  }
  if (e.compare) {
    const auto& c = *e.compare;
    out += fmt::format("\n4-class comparison on {}:\n", c.ground_truth);
    out += fmt::format("  {:<12} {:>14} {:>14}\n", "", "4-class model", "6-class→4");
    for (std::size_t i = 0; i < 12; ++i) {
      out += fmt::format("  {:<12} {:>14} {:>14}\n", coco_stat_names[i],
                         num(c.four_class.coco.stats[i]), num(c.six_collapsed.coco.stats[i]));
    }
    for (std::size_t k = 0; k < c.four_class.coco.classes.size(); ++k) {
      const auto& a = c.four_class.coco.classes[k];
      const auto& b = c.six_collapsed.coco.classes[k];
      out += fmt::format("  {:<12} {:>14} {:>14}\n", "AP " + a.name, num(a.ap), num(b.ap));
    }
    for (std::size_t t = 0; t < c.four_class.image_level.at.size(); ++t) {
      const auto& a = c.four_class.image_level.at[t];
      const auto& b = c.six_collapsed.image_level.at[t];
      out += fmt::format("  {:<12} {:>14} {:>14}\n", fmt::format("sens@{}", a.threshold),
                         pct(a.sensitivity.value), pct(b.sensitivity.value));
      out += fmt::format("  {:<12} {:>14} {:>14}\n", fmt::format("spec@{}", a.threshold),
                         pct(a.specificity.value), pct(b.specificity.value));
    }
    out += fmt::format("  {:<12} {:>14} {:>14}\n", "ROC AUC", num(c.four_class.image_level.roc_auc),
                       num(c.six_collapsed.image_level.roc_auc));
  }
  return out;
}

// ---- JSON ---------------------------------------------------------------------------

namespace {

void opt(core::json_writer& w, std::string_view key, const std::optional<double>& v) {
  w.key(key);
  if (v)
    w.value(*v);
  else
    w.null();
}

void rate_json(core::json_writer& w, std::string_view key, const rate& r) {
  w.key(key);
  w.begin_object();
  opt(w, "value", r.value);
  opt(w, "low", r.low);
  opt(w, "high", r.high);
  w.field("numerator", r.numerator);
  w.field("denominator", r.denominator);
  w.end_object();
}

void binary_json(core::json_writer& w, const binary_metrics& b) {
  w.begin_object();
  w.field("positives", b.positives);
  w.field("negatives", b.negatives);
  opt(w, "roc_auc", b.roc_auc);
  w.key("thresholds");
  w.begin_array();
  for (const auto& t : b.at) {
    w.begin_object();
    w.field("score_threshold", t.threshold);
    w.field("tp", t.tp);
    w.field("fp", t.fp);
    w.field("tn", t.tn);
    w.field("fn", t.fn);
    rate_json(w, "sensitivity", t.sensitivity);
    rate_json(w, "specificity", t.specificity);
    rate_json(w, "ppv", t.ppv);
    rate_json(w, "npv", t.npv);
    opt(w, "f1", t.f1);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void coco_json(core::json_writer& w, const coco_metrics& c,
               const std::vector<std::uint64_t>* at_threshold) {
  w.begin_object();
  w.key("summary");
  w.begin_object();
  for (std::size_t i = 0; i < 12; ++i) opt(w, coco_stat_names[i], c.stats[i]);
  w.end_object();
  w.key("classes");
  w.begin_array();
  for (std::size_t k = 0; k < c.classes.size(); ++k) {
    const auto& x = c.classes[k];
    w.begin_object();
    w.field("category_id", x.category_id);
    w.field("name", x.name);
    w.field("no_gt", !x.ap.has_value());
    w.field("ground_truth", x.ground_truth);
    w.field("crowd", x.crowd);
    w.field("detections", x.detections);
    if (at_threshold) w.field("detections_at_threshold", (*at_threshold)[k]);
    if (!x.ap) w.field("false_positives", x.detections);
    opt(w, "AP", x.ap);
    opt(w, "AP50", x.ap50);
    opt(w, "AP75", x.ap75);
    opt(w, "AR100", x.ar100);
    w.key("precision50");
    w.inline_numbers(x.precision50.data(), x.precision50.size());
    w.key("precision75");
    w.inline_numbers(x.precision75.data(), x.precision75.size());
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void model_json(core::json_writer& w, const model_summary& m) {
  w.begin_object();
  w.field("label", m.label);
  w.field("predictions", m.predictions);
  w.field("detections", m.detections);
  w.key("coco");
  coco_json(w, m.coco, nullptr);
  w.key("image_level");
  binary_json(w, m.image_level);
  w.end_object();
}

}  // namespace

std::string to_json(const evaluation& e) {
  core::json_writer w(2);
  w.begin_object();
  w.field("dataset_dir", e.dataset_dir);
  w.field("split", e.split);
  w.field("predictions", e.predictions);
  w.field("images", e.images);
  w.field("annotations", e.annotations);
  w.field("detections", e.detections);
  w.key("dropped");
  w.begin_object();
  w.field("unknown_image", e.dropped_unknown_image);
  w.field("unknown_category", e.dropped_unknown_category);
  w.end_object();
  w.key("score_thresholds");
  w.inline_numbers(e.score_thresholds.data(), e.score_thresholds.size());
  w.key("recall_thresholds");
  w.inline_numbers(e.coco.recall_thresholds.data(), e.coco.recall_thresholds.size());
  w.key("coco");
  coco_json(w, e.coco, &e.class_detections_at_threshold);
  w.key("image_level");
  binary_json(w, e.image_level);
  w.key("patient_level");
  binary_json(w, e.patient_level);
  w.field("patients", e.patients);
  w.key("unidentified_images");
  w.begin_array();
  for (const auto& n : e.unidentified_images) w.value(n);
  w.end_array();
  w.key("confusion_matrix");
  w.begin_object();
  w.field("iou", e.confusion.iou);
  w.field("score_threshold", e.confusion.score_threshold);
  w.key("labels");
  w.begin_array();
  for (const auto& l : e.confusion.labels) w.value(l);
  w.end_array();
  w.key("counts");
  w.begin_array();
  for (std::size_t i = 0; i < e.confusion.labels.size(); ++i) {
    std::vector<double> row;
    for (std::size_t j = 0; j < e.confusion.labels.size(); ++j) {
      row.push_back(static_cast<double>(e.confusion.at(i, j)));
    }
    w.inline_numbers(row.data(), row.size());
  }
  w.end_array();
  w.end_object();
  w.key("negatives");
  w.begin_object();
  w.field("score_threshold", e.negatives.score_threshold);
  w.field("feedback_known", e.negatives.feedback_known);
  w.key("groups");
  w.begin_array();
  for (const auto& g : e.negatives.groups) {
    w.begin_object();
    w.field("name", g.name);
    w.field("images", g.images);
    w.field("images_with_fp", g.images_with_fp);
    w.field("false_positives", g.false_positives);
    rate_json(w, "fp_image_rate", g.fp_image_rate);
    w.end_object();
  }
  w.end_array();
  w.key("worst");
  w.begin_array();
  for (const auto& x : e.negatives.worst) {
    w.begin_object();
    w.field("file_name", x.file_name);
    w.field("feedback", x.feedback);
    w.field("max_score", x.max_score);
    w.field("top_class", x.top_class);
    w.field("false_positives", x.false_positives);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  w.key("compare_4class");
  if (e.compare) {
    w.begin_object();
    w.field("ground_truth", e.compare->ground_truth);
    w.key("four_class_model");
    model_json(w, e.compare->four_class);
    w.key("six_class_collapsed");
    model_json(w, e.compare->six_collapsed);
    w.end_object();
  } else {
    w.null();
  }
  w.end_object();
  auto s = w.take();
  s += '\n';
  return s;
}

// ---- --out files --------------------------------------------------------------------

namespace {

std::string csv_quote(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string safe_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out.empty() ? std::string("class") : out;
}

core::result<void> write_png(const std::filesystem::path& path, const imaging::image_u8& image) {
  auto png = imaging::encode_png(image, 6);
  if (!png) return tl::unexpected(png.error());
  return core::write_file_atomic(path, *png);
}

}  // namespace

core::result<std::vector<std::filesystem::path>> write_outputs(const evaluation& e,
                                                               const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> written;
  const auto put = [&](const std::string& name, std::string_view bytes) -> core::result<void> {
    auto ok = core::write_file_atomic(dir / name, bytes);
    if (ok) written.push_back(dir / name);
    return ok;
  };
  if (auto ok = put("metrics.json", to_json(e)); !ok) return tl::unexpected(ok.error());

  std::string per_image = "file_name,has_hemorrhage,max_score,detections\r\n";
  for (const auto& r : e.per_image) {
    std::string score;
    if (std::isfinite(r.max_score)) core::json_writer::append_number(score, r.max_score);
    per_image += fmt::format("{},{},{},{}\r\n", csv_quote(r.file_name), r.positive ? 1 : 0, score,
                             r.detections);
  }
  if (auto ok = put("per_image.csv", per_image); !ok) return tl::unexpected(ok.error());

  const auto& cm = e.confusion;
  std::string cm_csv = "truth\\predicted";
  for (const auto& l : cm.labels) cm_csv += "," + csv_quote(l);
  cm_csv += "\r\n";
  for (std::size_t i = 0; i < cm.labels.size(); ++i) {
    cm_csv += csv_quote(cm.labels[i]);
    for (std::size_t j = 0; j < cm.labels.size(); ++j) cm_csv += fmt::format(",{}", cm.at(i, j));
    cm_csv += "\r\n";
  }
  if (auto ok = put("confusion_matrix.csv", cm_csv); !ok) return tl::unexpected(ok.error());
  {
    imaging::heat_map map;
    map.title =
        fmt::format("Confusion matrix (IoU >= {}, score >= {})", cm.iou, cm.score_threshold);
    map.x_label = "predicted";
    map.y_label = "rows: ground truth (colour: share of the row)";
    map.row_labels = cm.labels;
    map.column_labels = cm.labels;
    for (std::size_t i = 0; i < cm.counts.size(); ++i) {
      map.values.push_back(static_cast<double>(cm.counts[i]));
      map.cell_text.push_back(fmt::format("{}", cm.counts[i]));
    }
    if (auto ok = write_png(dir / "confusion_matrix.png", imaging::render_heat_map(map)); !ok) {
      return tl::unexpected(ok.error());
    }
    written.push_back(dir / "confusion_matrix.png");
  }

  std::string neg = "rank,file_name,feedback,max_score,top_class,false_positives\r\n";
  for (std::size_t i = 0; i < e.negatives.worst.size(); ++i) {
    const auto& w = e.negatives.worst[i];
    std::string score;
    core::json_writer::append_number(score, w.max_score);
    neg += fmt::format("{},{},{},{},{},{}\r\n", i + 1, csv_quote(w.file_name), w.feedback, score,
                       csv_quote(w.top_class), w.false_positives);
  }
  if (auto ok = put("negatives.csv", neg); !ok) return tl::unexpected(ok.error());

  // PR curves: all classes at IoU 0.50 in one chart, then one chart per class (0.50 and
  // 0.75). Interpolated precision on the 101-point recall grid, as COCOeval keeps it.
  const auto& rec = e.coco.recall_thresholds;
  imaging::line_chart all;
  all.title = "Precision-recall, IoU 0.50 (COCO 101-point interpolated)";
  all.x_label = "recall";
  all.y_label = "precision";
  for (std::size_t k = 0; k < e.coco.classes.size(); ++k) {
    const auto& c = e.coco.classes[k];
    if (c.precision50.empty()) continue;
    all.series.push_back({fmt::format("{} AP50 {:.3f}", c.name, c.ap50.value_or(0)), rec,
                          c.precision50, imaging::palette_color(k)});
    imaging::line_chart one;
    one.title = fmt::format("{}: precision-recall (AP {:.3f})", c.name, c.ap.value_or(0));
    one.x_label = "recall";
    one.y_label = "precision";
    one.series.push_back({fmt::format("IoU 0.50 (AP50 {:.3f})", c.ap50.value_or(0)), rec,
                          c.precision50, imaging::palette_color(0)});
    if (!c.precision75.empty()) {
      one.series.push_back({fmt::format("IoU 0.75 (AP75 {:.3f})", c.ap75.value_or(0)), rec,
                            c.precision75, imaging::palette_color(1)});
    }
    const auto path = dir / fmt::format("pr_{}.png", safe_name(c.name));
    if (auto ok = write_png(path, imaging::render_line_chart(one)); !ok) {
      return tl::unexpected(ok.error());
    }
    written.push_back(path);
  }
  if (auto ok = write_png(dir / "pr_curves.png", imaging::render_line_chart(all)); !ok) {
    return tl::unexpected(ok.error());
  }
  written.push_back(dir / "pr_curves.png");
  return written;
}

}  // namespace ctprep::report
