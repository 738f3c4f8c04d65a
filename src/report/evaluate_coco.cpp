// COCOeval for bounding boxes, written from pycocotools' cocoeval.py and maskApi.c
// (evaluate -> evaluateImg per image and class, accumulate, summarize). Comments cite
// the step of pycocotools each part reproduces.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <unordered_map>

#include "ctprep/core/memory.hpp"
#include "ctprep/core/parallel.hpp"
#include "ctprep/report/evaluate.hpp"

namespace ctprep::report {
namespace {

// numpy.linspace(start, stop, num): arange(num) * step + start, last element = stop.
std::vector<double> linspace(double start, double stop, std::size_t num) {
  std::vector<double> y(num);
  const double step = (stop - start) / static_cast<double>(num - 1);
  for (std::size_t i = 0; i < num; ++i) y[i] = static_cast<double>(i) * step + start;
  y.back() = stop;
  return y;
}

// maskApi.c bbIou: crowd ground truth divides by the detection's area only.
double box_iou(const core::box& d, const core::box& g, bool crowd) {
  const double w = std::fmin(d.w + d.x, g.w + g.x) - std::fmax(d.x, g.x);
  if (w <= 0) return 0;
  const double h = std::fmin(d.h + d.y, g.h + g.y) - std::fmax(d.y, g.y);
  if (h <= 0) return 0;
  const double i = w * h;
  const double da = d.w * d.h;
  const double u = crowd ? da : da + g.w * g.h - i;
  return i / u;
}

// Compressed rows: items grouped by cell (category * images + image), file order kept.
struct grouped {
  std::vector<std::uint32_t> start;  // cells + 1
  std::vector<std::uint32_t> items;
};

template <typename Key>
grouped group_by(std::size_t cells, std::size_t n, Key&& cell_of) {
  grouped g;
  g.start.assign(cells + 1, 0);
  for (std::size_t i = 0; i < n; ++i) ++g.start[cell_of(i) + 1];
  for (std::size_t c = 0; c < cells; ++c) g.start[c + 1] += g.start[c];
  g.items.resize(n);
  std::vector<std::uint32_t> fill(g.start.begin(), g.start.end() - 1);
  for (std::size_t i = 0; i < n; ++i) g.items[fill[cell_of(i)]++] = static_cast<std::uint32_t>(i);
  return g;
}

constexpr std::size_t area_count = 4;

// One kept detection of one (class, image) cell, as evaluateImg leaves it: matched and
// ignored flags per IoU threshold (bit t) for each area range.
struct det_entry {
  double score;
  std::uint32_t rank;  // position among the cell's detections sorted by score
  std::array<std::uint32_t, area_count> matched;
  std::array<std::uint32_t, area_count> ignored;
};

}  // namespace

coco_params default_coco_params() {
  coco_params p;
  p.iou_thresholds = linspace(0.5, 0.95, 10);
  p.recall_thresholds = linspace(0.0, 1.0, 101);
  return p;
}

coco_metrics evaluate_coco(const core::dataset& gt, std::span<const coco::detection> detections,
                           const coco_params& params, unsigned jobs) {
  const std::size_t T = params.iou_thresholds.size();
  const std::size_t R = params.recall_thresholds.size();
  const std::size_t A = area_count;
  const std::size_t M = params.max_dets.size();
  const int max_det = params.max_dets.back();

  // p.imgIds = sorted(getImgIds()), p.catIds = sorted(getCatIds()).
  std::vector<std::size_t> image_order(gt.images.size());
  std::iota(image_order.begin(), image_order.end(), std::size_t{0});
  std::sort(image_order.begin(), image_order.end(),
            [&](std::size_t a, std::size_t b) { return gt.images[a].id < gt.images[b].id; });
  std::unordered_map<std::int64_t, std::uint32_t> image_index;
  image_index.reserve(gt.images.size());
  for (std::size_t i = 0; i < image_order.size(); ++i) {
    image_index.emplace(gt.images[image_order[i]].id, static_cast<std::uint32_t>(i));
  }
  std::vector<std::size_t> category_order(gt.categories.size());
  std::iota(category_order.begin(), category_order.end(), std::size_t{0});
  std::sort(category_order.begin(), category_order.end(), [&](std::size_t a, std::size_t b) {
    return gt.categories[a].id < gt.categories[b].id;
  });
  std::unordered_map<std::int64_t, std::uint32_t> category_index;
  for (std::size_t k = 0; k < category_order.size(); ++k) {
    category_index.emplace(gt.categories[category_order[k]].id, static_cast<std::uint32_t>(k));
  }
  const std::size_t I = image_order.size();
  const std::size_t K = category_order.size();
  const std::size_t cells = I * K;

  coco_metrics out;
  out.recall_thresholds = params.recall_thresholds;
  out.classes.resize(K);
  for (std::size_t k = 0; k < K; ++k) {
    const auto& c = gt.categories[category_order[k]];
    out.classes[k].category_id = c.id;
    out.classes[k].name = c.name;
  }

  // _prepare: ground truth and detections per (image, class), in file order.
  const auto gt_cell = [&](std::size_t i) {
    const auto& a = gt.annotations[i];
    return category_index.at(a.category_id) * I + image_index.at(a.image_id);
  };
  const auto dt_cell = [&](std::size_t i) {
    const auto& d = detections[i];
    return category_index.at(d.category_id) * I + image_index.at(d.image_id);
  };
  const grouped gts = group_by(cells, gt.annotations.size(), gt_cell);
  const grouped dts = group_by(cells, detections.size(), dt_cell);
  for (const auto& a : gt.annotations) {
    auto& c = out.classes[category_index.at(a.category_id)];
    (a.iscrowd ? c.crowd : c.ground_truth) += 1;
  }
  for (const auto& d : detections) ++out.classes[category_index.at(d.category_id)].detections;

  // Each cell keeps at most maxDets[-1] detections; entries are laid out cell by cell.
  std::vector<std::uint32_t> entry_start(cells + 1, 0);
  for (std::size_t c = 0; c < cells; ++c) {
    entry_start[c + 1] =
        entry_start[c] + std::min<std::uint32_t>(dts.start[c + 1] - dts.start[c],
                                                 static_cast<std::uint32_t>(max_det));
  }
  std::vector<det_entry> entries;
  entries.reserve(entry_start.back());
  core::advise_huge_pages(entries.data(), entry_start.back() * sizeof(det_entry));
  entries.resize(entry_start.back());
  // Ground truth not ignored, per cell and area: npig's summands.
  std::vector<std::array<std::uint32_t, area_count>> not_ignored(cells);

  const double iou_cap = 1 - 1e-10;
  const auto evaluate_cell = [&](std::size_t c) {
    const std::uint32_t g0 = gts.start[c], g1 = gts.start[c + 1];
    const std::uint32_t d0 = dts.start[c], d1 = dts.start[c + 1];
    not_ignored[c] = {};
    if (g0 == g1 && d0 == d1) return;  // evaluateImg returns None
    // computeIoU / evaluateImg: detections by score, stable (mergesort), cut to maxDet.
    std::vector<std::uint32_t> dt(dts.items.begin() + d0, dts.items.begin() + d1);
    std::stable_sort(dt.begin(), dt.end(), [&](std::uint32_t a, std::uint32_t b) {
      return detections[a].score > detections[b].score;
    });
    dt.resize(entry_start[c + 1] - entry_start[c]);
    const std::size_t D = dt.size(), G = g1 - g0;
    std::vector<double> ious(D * G);
    for (std::size_t d = 0; d < D; ++d) {
      for (std::size_t g = 0; g < G; ++g) {
        const auto& a = gt.annotations[gts.items[g0 + g]];
        ious[d * G + g] = box_iou(detections[dt[d]].bbox, a.bbox, a.iscrowd != 0);
      }
    }
    det_entry* e = entries.data() + entry_start[c];
    for (std::size_t d = 0; d < D; ++d) {
      e[d].score = detections[dt[d]].score;
      e[d].rank = static_cast<std::uint32_t>(d);
      e[d].matched = {};
      e[d].ignored = {};
    }
    std::vector<std::uint32_t> order(G);
    std::vector<char> ignore(G), crowd(G), taken(G);
    for (std::size_t a = 0; a < A; ++a) {
      const double lo = params.area_ranges[a][0], hi = params.area_ranges[a][1];
      // g['_ignore'], then gt sorted with ignored last (stable).
      std::iota(order.begin(), order.end(), std::uint32_t{0});
      std::uint32_t kept = 0;
      for (std::size_t g = 0; g < G; ++g) {
        const auto& ann = gt.annotations[gts.items[g0 + g]];
        ignore[g] = ann.iscrowd != 0 || ann.area < lo || ann.area > hi;
        crowd[g] = ann.iscrowd != 0;
        kept += ignore[g] ? 0u : 1u;
      }
      std::stable_partition(order.begin(), order.end(),
                            [&](std::uint32_t g) { return !ignore[g]; });
      not_ignored[c][a] = kept;
      for (std::size_t t = 0; t < T; ++t) {
        std::fill(taken.begin(), taken.end(), 0);
        const std::uint32_t bit = 1u << t;
        for (std::size_t d = 0; d < D; ++d) {
          double iou = std::min(params.iou_thresholds[t], iou_cap);
          std::ptrdiff_t m = -1;
          for (std::size_t j = 0; j < G; ++j) {
            const std::uint32_t g = order[j];
            if (taken[g] && !crowd[g]) continue;
            // A match to a real box is not traded for an ignored one.
            if (m > -1 && !ignore[static_cast<std::size_t>(m)] && ignore[g]) break;
            const double v = ious[d * G + g];
            if (v < iou) continue;
            iou = v;
            m = g;
          }
          if (m == -1) continue;
          if (ignore[static_cast<std::size_t>(m)]) e[d].ignored[a] |= bit;
          // pycocotools stores the matched annotation's id and tests it against 0.
          const bool id_zero = gt.annotations[gts.items[g0 + static_cast<std::size_t>(m)]].id == 0;
          if (!(params.annotation_id_zero_unmatched && id_zero)) e[d].matched[a] |= bit;
          taken[static_cast<std::size_t>(m)] = 1;
        }
      }
      // Unmatched detections outside the area range are ignored.
      for (std::size_t d = 0; d < D; ++d) {
        const auto& b = detections[dt[d]].bbox;
        const double area = b.w * b.h;
        if (area < lo || area > hi) e[d].ignored[a] |= ~e[d].matched[a];
      }
    }
  };
  constexpr std::size_t chunk = 256;
  core::parallel_for((cells + chunk - 1) / chunk, jobs, [&](std::size_t b) {
    for (std::size_t c = b * chunk; c < std::min(cells, (b + 1) * chunk); ++c) evaluate_cell(c);
  });

  // accumulate
  std::vector<double> precision(T * R * K * A * M, -1.0);
  std::vector<double> recall(T * K * A * M, -1.0);
  const auto p_at = [&](std::size_t t, std::size_t r, std::size_t k, std::size_t a,
                        std::size_t m) -> double& {
    return precision[(((t * R + r) * K + k) * A + a) * M + m];
  };
  const auto r_at = [&](std::size_t t, std::size_t k, std::size_t a, std::size_t m) -> double& {
    return recall[((t * K + k) * A + a) * M + m];
  };
  const double eps = std::nextafter(1.0, 2.0) - 1.0;  // np.spacing(1)
  const std::uint32_t all_t = T >= 32 ? ~0u : (1u << T) - 1;
  core::parallel_for(K, jobs, [&](std::size_t k) {
    const std::uint32_t e0 = entry_start[k * I], e1 = entry_start[(k + 1) * I];
    // One stable sort by score serves every area range and maxDets: accumulate's
    // concatenation order (image order, then rank in the image) is the entries' order,
    // so ties are broken by entry position.
    std::vector<std::pair<double, std::uint32_t>> keys(e1 - e0);
    for (std::uint32_t x = e0; x < e1; ++x) keys[x - e0] = {entries[x].score, x};
    std::sort(keys.begin(), keys.end(), [](const auto& p, const auto& q) {
      return p.first != q.first ? p.first > q.first : p.second < q.second;
    });
    struct sorted_entry {
      std::uint32_t rank;
      std::array<std::uint32_t, area_count> counted, tp;  // bits per IoU threshold
    };
    std::vector<sorted_entry> sorted(keys.size());
    for (std::size_t j = 0; j < keys.size(); ++j) {
      const det_entry& e = entries[keys[j].second];
      sorted[j].rank = e.rank;
      for (std::size_t a = 0; a < A; ++a) {
        sorted[j].counted[a] = ~e.ignored[a] & all_t;
        sorted[j].tp[a] = e.matched[a] & sorted[j].counted[a];
      }
    }
    std::vector<double> tp(T), fp(T), best(T * (R + 1));
    std::vector<std::size_t> covered(T);  // recall thresholds <= the current recall
    for (std::size_t a = 0; a < A; ++a) {
      std::uint64_t npig = 0;
      bool any_cell = false;
      for (std::size_t i = 0; i < I; ++i) {
        const std::size_t c = k * I + i;
        npig += not_ignored[c][a];
        any_cell = any_cell || gts.start[c + 1] > gts.start[c] || dts.start[c + 1] > dts.start[c];
      }
      if (!any_cell || npig == 0) continue;  // precision and recall stay -1
      const double n_pos = static_cast<double>(npig);
      for (std::size_t m = 0; m < M; ++m) {
        const auto cut = static_cast<std::uint32_t>(params.max_dets[m]);
        std::fill(tp.begin(), tp.end(), 0.0);
        std::fill(fp.begin(), fp.end(), 0.0);
        std::fill(best.begin(), best.end(), 0.0);
        // Ignored detections add neither a TP nor an FP: the points pycocotools keeps
        // for them repeat their predecessor's and never change a result.
        // Interpolated precision at recall threshold r is the highest precision of any
        // point whose recall is >= r (= the monotone precision read at searchsorted's
        // index), so one pass keeps, per number of thresholds covered, the best
        // precision, and a suffix maximum finishes the job. An FP never raises it: the
        // point before it had the same recall and a higher precision.
        std::fill(covered.begin(), covered.end(), std::size_t{0});
        for (std::size_t t = 0; t < T; ++t) {
          while (covered[t] < R && params.recall_thresholds[covered[t]] <= 0.0) ++covered[t];
        }
        for (const sorted_entry& e : sorted) {
          if (e.rank >= cut) continue;
          std::uint32_t bits = e.counted[a];
          while (bits) {
            const auto t = static_cast<std::size_t>(std::countr_zero(bits));
            bits &= bits - 1;
            if (!(e.tp[a] >> t & 1u)) {
              fp[t] += 1;
              continue;
            }
            tp[t] += 1;
            const double rc = tp[t] / n_pos;
            std::size_t& h = covered[t];
            while (h < R && params.recall_thresholds[h] <= rc) ++h;
            const double pr = tp[t] / (fp[t] + tp[t] + eps);
            double& b = best[t * (R + 1) + h];
            if (pr > b) b = pr;
          }
        }
        for (std::size_t t = 0; t < T; ++t) {
          const bool any_point = tp[t] + fp[t] > 0;
          r_at(t, k, a, m) = any_point ? tp[t] / n_pos : 0.0;
          double run = 0;
          for (std::size_t h = R; h >= 1; --h) {
            run = std::max(run, best[t * (R + 1) + h]);
            p_at(t, h - 1, k, a, m) = run;
          }
        }
      }
    }
  });

  // summarize
  const auto mean_of = [](const std::vector<double>& v) -> std::optional<double> {
    double sum = 0;
    std::size_t n = 0;
    for (double x : v) {
      if (x > -1) sum += x, ++n;
    }
    if (n == 0) return std::nullopt;
    return sum / static_cast<double>(n);
  };
  const auto max_index = [&](int value) {
    for (std::size_t m = 0; m < M; ++m) {
      if (params.max_dets[m] == value) return m;
    }
    return M - 1;
  };
  const auto iou_index = [&](double value) -> std::ptrdiff_t {
    for (std::size_t t = 0; t < T; ++t) {
      if (std::fabs(params.iou_thresholds[t] - value) < 1e-9) return static_cast<std::ptrdiff_t>(t);
    }
    return -1;
  };
  const auto ap = [&](std::ptrdiff_t t_only, std::size_t a, std::size_t m,
                      std::ptrdiff_t k_only) -> std::optional<double> {
    std::vector<double> v;
    for (std::size_t t = 0; t < T; ++t) {
      if (t_only >= 0 && t != static_cast<std::size_t>(t_only)) continue;
      for (std::size_t r = 0; r < R; ++r) {
        for (std::size_t k = 0; k < K; ++k) {
          if (k_only >= 0 && k != static_cast<std::size_t>(k_only)) continue;
          v.push_back(p_at(t, r, k, a, m));
        }
      }
    }
    return mean_of(v);
  };
  const auto ar = [&](std::size_t a, std::size_t m, std::ptrdiff_t k_only) {
    std::vector<double> v;
    for (std::size_t t = 0; t < T; ++t) {
      for (std::size_t k = 0; k < K; ++k) {
        if (k_only >= 0 && k != static_cast<std::size_t>(k_only)) continue;
        v.push_back(r_at(t, k, a, m));
      }
    }
    return mean_of(v);
  };
  const std::size_t m100 = max_index(100);
  const std::ptrdiff_t t50 = iou_index(0.5), t75 = iou_index(0.75);
  const auto or_none = [&](std::ptrdiff_t t, std::size_t a, std::size_t m, std::ptrdiff_t k) {
    return t < 0 ? std::nullopt : ap(t, a, m, k);
  };
  out.stats = {ap(-1, 0, m100, -1),     or_none(t50, 0, m100, -1), or_none(t75, 0, m100, -1),
               ap(-1, 1, m100, -1),     ap(-1, 2, m100, -1),       ap(-1, 3, m100, -1),
               ar(0, max_index(1), -1), ar(0, max_index(10), -1),  ar(0, m100, -1),
               ar(1, m100, -1),         ar(2, m100, -1),           ar(3, m100, -1)};
  for (std::size_t k = 0; k < K; ++k) {
    auto& c = out.classes[k];
    const auto kk = static_cast<std::ptrdiff_t>(k);
    c.ap = ap(-1, 0, m100, kk);
    c.ap50 = or_none(t50, 0, m100, kk);
    c.ap75 = or_none(t75, 0, m100, kk);
    c.ar100 = ar(0, m100, kk);
    if (c.ap && t50 >= 0) {
      for (std::size_t r = 0; r < R; ++r)
        c.precision50.push_back(p_at(std::size_t(t50), r, k, 0, m100));
    }
    if (c.ap && t75 >= 0) {
      for (std::size_t r = 0; r < R; ++r)
        c.precision75.push_back(p_at(std::size_t(t75), r, k, 0, m100));
    }
  }
  return out;
}

}  // namespace ctprep::report
