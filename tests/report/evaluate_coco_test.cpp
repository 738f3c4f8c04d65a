// Parity with pycocotools' COCOeval, shown on cases whose numbers are worked out by hand
// here, on its documented quirks, and on properties any correct evaluation has.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include <gtest/gtest.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/classes.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/report/evaluate.hpp"
#include "support/testing.hpp"

namespace ctprep::report {
namespace {

using coco::detection;
using core::box;

enum stat { AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl };

// pycocotools divides by (tp + fp + np.spacing(1)): one TP alone gives 1 / (1 + eps).
constexpr double near = 1e-12;

detection det(std::int64_t image, std::int64_t category, box b, double score) {
  detection d;
  d.image_id = image;
  d.category_id = category;
  d.bbox = b;
  d.score = score;
  return d;
}

core::annotation ann(std::int64_t id, std::int64_t image, std::int64_t category, box b,
                     std::int64_t crowd = 0) {
  return {id, image, category, b, b.w * b.h, crowd, {}};
}

core::dataset one_class(std::int64_t images) {
  core::dataset d;
  d.categories = core::make_categories(core::four_class_names);
  for (std::int64_t i = 1; i <= images; ++i) {
    d.images.push_back({i, "1_" + std::to_string(i) + ".png", 200, 200, {}});
  }
  return d;
}

TEST(evaluate_coco, grids_are_built_like_numpy_linspace) {
  const auto p = default_coco_params();
  ASSERT_EQ(p.iou_thresholds.size(), 10u);
  ASSERT_EQ(p.recall_thresholds.size(), 101u);
  EXPECT_EQ(p.iou_thresholds[0], 0.5);
  EXPECT_EQ(p.iou_thresholds[5], 0.75);  // summarize finds AP75 with ==
  EXPECT_EQ(p.iou_thresholds[9], 0.95);
  EXPECT_EQ(p.recall_thresholds[50], 0.5);
  EXPECT_EQ(p.recall_thresholds[100], 1.0);
  EXPECT_EQ(p.recall_thresholds[7], 7 * 0.01);
}

TEST(evaluate_coco, perfect_predictions_score_one) {
  auto gt = one_class(2);
  gt.annotations = {ann(1, 1, 0, {10, 10, 20, 20}), ann(2, 1, 1, {50, 50, 40, 40}),
                    ann(3, 2, 0, {100, 100, 120, 80})};
  const std::vector<detection> dets = {det(1, 0, {10, 10, 20, 20}, 0.9),
                                       det(1, 1, {50, 50, 40, 40}, 0.8),
                                       det(2, 0, {100, 100, 120, 80}, 0.7)};
  const auto m = evaluate_coco(gt, dets);
  for (int s : {AP, AP50, AP75, APs, APm, APl, AR10, AR100, ARs, ARm, ARl}) {
    ASSERT_TRUE(m.stats[static_cast<std::size_t>(s)]) << coco_stat_names[s];
    EXPECT_NEAR(*m.stats[static_cast<std::size_t>(s)], 1.0, near) << coco_stat_names[s];
  }
  EXPECT_NEAR(*m.stats[AR1], 1.0, near);  // one box per image and class
  ASSERT_EQ(m.classes.size(), 4u);
  EXPECT_NEAR(*m.classes[0].ap, 1.0, near);
  EXPECT_NEAR(*m.classes[1].ap, 1.0, near);
  EXPECT_FALSE(m.classes[2].ap);  // no GT: not folded into the mean as -1
  EXPECT_FALSE(m.classes[3].ap50);
  EXPECT_EQ(m.classes[0].ground_truth, 2u);
  EXPECT_EQ(m.classes[0].precision50.size(), 101u);
  EXPECT_TRUE(m.classes[2].precision50.empty());
}

TEST(evaluate_coco, no_predictions_score_zero_and_stay_defined) {
  auto gt = one_class(2);
  gt.annotations = {ann(1, 1, 0, {10, 10, 20, 20}), ann(2, 2, 0, {10, 10, 50, 50})};
  const auto m = evaluate_coco(gt, {});
  for (int s : {AP, AP50, AP75, APs, APm, AR1, AR10, AR100, ARs, ARm}) {
    ASSERT_TRUE(m.stats[static_cast<std::size_t>(s)]) << coco_stat_names[s];
    EXPECT_EQ(*m.stats[static_cast<std::size_t>(s)], 0.0) << coco_stat_names[s];
  }
  EXPECT_FALSE(m.stats[APl]);  // no large ground truth: -1 in pycocotools
  EXPECT_FALSE(m.stats[ARl]);
}

TEST(evaluate_coco, dataset_without_any_ground_truth_gives_undefined_metrics) {
  const auto gt = one_class(1);
  const auto m = evaluate_coco(gt, std::vector<detection>{det(1, 0, {0, 0, 10, 10}, 0.5)});
  for (const auto& s : m.stats) EXPECT_FALSE(s);
  EXPECT_EQ(m.classes[0].detections, 1u);
}

// One image, one class. A (20x20, small), B (40x40, medium), C a crowd region.
//   d1 .9 = A           -> TP
//   d2 .8 = A again     -> duplicate: FP (A taken; small, inside the small range)
//   d3 .7 inside C      -> matches the crowd box (IoU = inter / det area = 1): ignored
//   d4 .6 IoU 0.62 to B -> TP at IoU .50 .55 .60, FP above (area 992: small!)
//   d5 .5 5x5 far away  -> FP
// Area all, npig 2. t <= .60: TP FP TP FP -> rc .5 .5 1 1, interpolated precision
// 1 2/3 2/3 .5: the grid points 0..0.50 (51) read 1, 0.51..1.00 (50) read 2/3.
// t > .60: TP FP FP FP -> 51 points read 1, the rest 0.
//   AP50 = (51 + 50*2/3)/101, AP75 = 51/101, AP = (3*(51 + 100/3) + 7*51)/1010 = 610/1010.
//   AR100 = (3*1 + 7*.5)/10 = .65, AR1 = .5 (d1 only).
// Small (A kept, B ignored): d4 matches the ignored B at t <= .60 (ignored), is an
// in-range FP above; every TP comes first: APs = 1, ARs = 1.
// Medium (B kept, A ignored): d1 matches the ignored A -> ignored; d2 unmatched and out
// of range -> ignored; d4 TP at t <= .60, unmatched and out of range above -> ignored:
// APm = ARm = 3/10. Large: no ground truth -> undefined.
TEST(evaluate_coco, duplicates_crowd_and_area_ranges_match_the_worked_example) {
  auto gt = one_class(1);
  gt.annotations = {ann(1, 1, 0, {10, 10, 20, 20}), ann(2, 1, 0, {100, 100, 40, 40}),
                    ann(3, 1, 0, {0, 150, 50, 50}, 1)};
  const std::vector<detection> dets = {
      det(1, 0, {10, 10, 20, 20}, 0.9), det(1, 0, {10, 10, 20, 20}, 0.8),
      det(1, 0, {5, 155, 20, 20}, 0.7), det(1, 0, {100, 100, 40, 24.8}, 0.6),
      det(1, 0, {180, 10, 5, 5}, 0.5)};
  const auto m = evaluate_coco(gt, dets);
  EXPECT_NEAR(*m.stats[AP50], (51 + 50 * 2.0 / 3) / 101, near);
  EXPECT_NEAR(*m.stats[AP75], 51.0 / 101, near);
  EXPECT_NEAR(*m.stats[AP], 610.0 / 1010, near);
  EXPECT_NEAR(*m.stats[AR100], 0.65, near);
  EXPECT_NEAR(*m.stats[AR10], 0.65, near);
  EXPECT_NEAR(*m.stats[AR1], 0.5, near);
  EXPECT_NEAR(*m.stats[APs], 1.0, near);
  EXPECT_NEAR(*m.stats[ARs], 1.0, near);
  EXPECT_NEAR(*m.stats[APm], 0.3, near);
  EXPECT_NEAR(*m.stats[ARm], 0.3, near);
  EXPECT_FALSE(m.stats[APl]);
  EXPECT_FALSE(m.stats[ARl]);
  EXPECT_EQ(m.classes[0].ground_truth, 2u);
  EXPECT_EQ(m.classes[0].crowd, 1u);
}

// 3 boxes, found: TP .9, FP .8, TP .7. Interpolated precision 1, 2/3, 2/3 at recall
// 1/3, 1/3, 2/3. The 101-point grid reads 1 at 0.00..0.33 (34 points), 2/3 at
// 0.34..0.66 (33), 0 beyond: 56/101 = 0.5545. VOC's all-point area would be 0.5556.
TEST(evaluate_coco, precision_is_read_on_the_101_point_recall_grid) {
  auto gt = one_class(1);
  gt.annotations = {ann(1, 1, 0, {0, 0, 10, 10}), ann(2, 1, 0, {50, 50, 10, 10}),
                    ann(3, 1, 0, {100, 100, 10, 10})};
  const std::vector<detection> dets = {det(1, 0, {0, 0, 10, 10}, 0.9),
                                       det(1, 0, {150, 0, 10, 10}, 0.8),
                                       det(1, 0, {50, 50, 10, 10}, 0.7)};
  const auto m = evaluate_coco(gt, dets);
  EXPECT_NEAR(*m.stats[AP50], 56.0 / 101, near);
  EXPECT_NEAR(*m.stats[AR100], 2.0 / 3, near);
  const auto& p = m.classes[0].precision50;
  EXPECT_NEAR(p[33], 1.0, near);
  EXPECT_NEAR(p[34], 2.0 / 3, near);
  EXPECT_NEAR(p[66], 2.0 / 3, near);
  EXPECT_EQ(p[67], 0.0);
}

TEST(evaluate_coco, max_dets_cuts_per_image_and_class) {
  auto gt = one_class(1);
  // Two boxes of class 0 and one of class 1 in one image, all found.
  gt.annotations = {ann(1, 1, 0, {0, 0, 10, 10}), ann(2, 1, 0, {50, 50, 10, 10}),
                    ann(3, 1, 1, {100, 100, 10, 10})};
  const std::vector<detection> dets = {det(1, 0, {0, 0, 10, 10}, 0.9),
                                       det(1, 0, {50, 50, 10, 10}, 0.8),
                                       det(1, 1, {100, 100, 10, 10}, 0.7)};
  const auto m = evaluate_coco(gt, dets);
  // maxDets=1 keeps the best detection of each class in the image: class 0 recalls
  // 1/2, class 1 recalls 1 (the cut is per class, not per image).
  EXPECT_NEAR(*m.stats[AR1], (0.5 + 1.0) / 2, near);
  EXPECT_NEAR(*m.stats[AR10], 1.0, near);
}

TEST(evaluate_coco, a_true_positive_beyond_the_hundredth_detection_is_cut) {
  for (const int false_positives : {99, 100}) {
    auto gt = one_class(1);
    gt.annotations = {ann(1, 1, 0, {0, 0, 10, 10})};
    std::vector<detection> dets;
    for (int i = 0; i < false_positives; ++i) {
      dets.push_back(det(1, 0, {150, 150, 10, 10}, 0.9 - i * 0.001));
    }
    dets.push_back(det(1, 0, {0, 0, 10, 10}, 0.05));
    const auto m = evaluate_coco(gt, dets);
    EXPECT_NEAR(*m.stats[AR100], false_positives == 99 ? 1.0 : 0.0, near) << false_positives;
    // Precision at recall 1 is 1/100 when the TP is the 100th detection.
    EXPECT_NEAR(*m.stats[AP50], false_positives == 99 ? 0.01 : 0.0, 1e-9) << false_positives;
  }
}

// An unmatched detection outside an area range is ignored for that range, a matched one
// is judged by its ground truth. FP (small, .9) then TP (medium, .8):
// all: FP TP -> interpolated .5 at recall 1 -> AP .5; medium: the FP is ignored -> 1.
TEST(evaluate_coco, unmatched_detections_outside_the_area_range_are_ignored) {
  auto gt = one_class(1);
  gt.annotations = {ann(1, 1, 0, {100, 100, 50, 50})};
  const std::vector<detection> dets = {det(1, 0, {0, 0, 10, 10}, 0.9),
                                       det(1, 0, {100, 100, 50, 50}, 0.8)};
  const auto m = evaluate_coco(gt, dets);
  EXPECT_NEAR(*m.stats[AP], 0.5, near);
  EXPECT_NEAR(*m.stats[APm], 1.0, near);
  EXPECT_FALSE(m.stats[APs]);  // no small ground truth
}

// A ground-truth box's area range is judged by its "area" field, not its box (as in
// pycocotools): a 40x40 box whose area field says 100 is small.
TEST(evaluate_coco, ground_truth_area_comes_from_the_area_field) {
  auto gt = one_class(1);
  gt.annotations = {ann(1, 1, 0, {100, 100, 40, 40})};
  gt.annotations[0].area = 100;
  const auto m = evaluate_coco(gt, std::vector<detection>{det(1, 0, {100, 100, 40, 40}, 0.9)});
  EXPECT_NEAR(*m.stats[APs], 1.0, near);
  EXPECT_FALSE(m.stats[APm]);
}

// Among equal-IoU candidates the later ground truth in (ignore-sorted) order wins, and a
// match to a real box is never traded for an ignored one; a crowd box takes any number.
TEST(evaluate_coco, crowd_boxes_absorb_any_number_of_detections) {
  auto gt = one_class(1);
  gt.annotations = {ann(1, 1, 0, {0, 0, 100, 100}, 1), ann(2, 1, 0, {150, 150, 20, 20})};
  std::vector<detection> dets;
  for (int i = 0; i < 5; ++i) dets.push_back(det(1, 0, {i * 10.0, 0, 10, 10}, 0.9 - i * 0.01));
  dets.push_back(det(1, 0, {150, 150, 20, 20}, 0.1));
  const auto m = evaluate_coco(gt, dets);
  // Five crowd matches are ignored; the real box is found by the last detection.
  EXPECT_NEAR(*m.stats[AP50], 1.0, near);
}

TEST(evaluate_coco, annotation_id_zero_counts_as_a_match) {
  auto gt = one_class(1);
  gt.annotations = {ann(0, 1, 0, {10, 10, 20, 20})};
  const std::vector<detection> dets = {det(1, 0, {10, 10, 20, 20}, 0.9)};
  EXPECT_NEAR(*evaluate_coco(gt, dets).stats[AP], 1.0, near);
  // pycocotools' defect on request: the match to id 0 is a false positive.
  auto quirk = default_coco_params();
  quirk.annotation_id_zero_unmatched = true;
  EXPECT_EQ(*evaluate_coco(gt, dets, quirk).stats[AP], 0.0);
}

// ---- properties ---------------------------------------------------------------------

struct random_case {
  core::dataset gt;
  std::vector<detection> dets;
};

random_case make_random_case(std::uint64_t seed, int images, int per_image,
                             std::int64_t first_annotation_id = 1) {
  core::rng r(seed);
  random_case c;
  c.gt.categories = core::make_categories(core::six_class_names);
  std::int64_t ann_id = first_annotation_id;
  for (int i = 0; i < images; ++i) {
    const std::int64_t id = 1000 - i * 7;  // ids not in list order
    c.gt.images.push_back({id, "1_" + std::to_string(i) + ".png", 512, 512, {}});
    const auto boxes = r.between(0, 4);
    for (int b = 0; b < boxes; ++b) {
      const box g{r.uniform(0, 400), r.uniform(0, 400), r.uniform(4, 110), r.uniform(4, 110)};
      auto a = ann(ann_id++, id, r.between(0, 5), g, r.chance(0.05) ? 1 : 0);
      c.gt.annotations.push_back(a);
      // Near-misses and hits around the box, with random classes and scores.
      for (int k = 0; k < 3; ++k) {
        const box d{g.x + r.uniform(-8, 8), g.y + r.uniform(-8, 8), g.w * r.uniform(0.7, 1.3),
                    g.h * r.uniform(0.7, 1.3)};
        c.dets.push_back(
            det(id, r.chance(0.8) ? a.category_id : r.between(0, 5), d, r.uniform(0.01, 1)));
      }
    }
    for (int k = 0; k < per_image; ++k) {
      c.dets.push_back(
          det(id, r.between(0, 5),
              {r.uniform(0, 450), r.uniform(0, 450), r.uniform(2, 100), r.uniform(2, 100)},
              r.uniform(0.01, 1)));
    }
  }
  return c;
}

void expect_same(const coco_metrics& a, const coco_metrics& b) {
  for (std::size_t i = 0; i < 12; ++i) {
    ASSERT_EQ(a.stats[i].has_value(), b.stats[i].has_value()) << coco_stat_names[i];
    if (a.stats[i]) {
      EXPECT_EQ(*a.stats[i], *b.stats[i]) << coco_stat_names[i];
    }
  }
  for (std::size_t k = 0; k < a.classes.size(); ++k) {
    EXPECT_EQ(a.classes[k].ap, b.classes[k].ap);
    EXPECT_EQ(a.classes[k].precision50, b.classes[k].precision50);
  }
}

TEST(evaluate_coco, shuffling_predictions_or_images_changes_nothing) {
  auto c = make_random_case(7, 60, 4);
  const auto base = evaluate_coco(c.gt, c.dets, default_coco_params(), 1);
  ASSERT_TRUE(base.stats[AP]);
  EXPECT_GT(*base.stats[AP], 0.1);
  core::rng r(99);
  r.shuffle(c.dets.begin(), c.dets.end());
  expect_same(base, evaluate_coco(c.gt, c.dets, default_coco_params(), 1));
  r.shuffle(c.gt.images.begin(), c.gt.images.end());
  r.shuffle(c.gt.annotations.begin(), c.gt.annotations.end());
  // Annotation order within an image and class decides equal-IoU ties only.
  expect_same(base, evaluate_coco(c.gt, c.dets, default_coco_params(), 2));
}

TEST(evaluate_coco, results_do_not_depend_on_the_thread_count) {
  const auto c = make_random_case(11, 400, 20);
  expect_same(evaluate_coco(c.gt, c.dets, default_coco_params(), 1),
              evaluate_coco(c.gt, c.dets, default_coco_params(), 3));
}

TEST(evaluate_coco, a_prediction_scoring_below_all_others_changes_nothing) {
  auto c = make_random_case(5, 50, 10);
  const auto base = evaluate_coco(c.gt, c.dets);
  // A false positive below every other score, in an image that keeps < 100 detections.
  c.dets.push_back(det(c.gt.images[3].id, 2, {500, 500, 5, 5}, 0.001));
  expect_same(base, evaluate_coco(c.gt, c.dets));
}

}  // namespace
}  // namespace ctprep::report

// ---- against an independent numpy transcription of pycocotools ----------------------

namespace ctprep::report {
namespace {

std::string results_json(const std::vector<detection>& dets) {
  std::string s = "[";
  for (std::size_t i = 0; i < dets.size(); ++i) {
    const auto& d = dets[i];
    s += fmt::format("{}{{\"image_id\":{},\"category_id\":{},\"bbox\":[{},{},{},{}],\"score\":{}}}",
                     i ? "," : "", d.image_id, d.category_id, d.bbox.x, d.bbox.y, d.bbox.w,
                     d.bbox.h, d.score);
  }
  return s + "]";
}

TEST(evaluate_coco, matches_a_numpy_transcription_of_pycocotools_on_random_cases) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with numpy is not available";
  }
  testing::temp_dir dir;
  for (const std::uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    // Seed 5: annotation ids from 0, compared with the id-0 defect reproduced.
    auto c = make_random_case(seed, 25, seed == 4 ? 40 : 6, seed == 5 ? 0 : 1);
    auto params = default_coco_params();
    params.annotation_id_zero_unmatched = seed == 5;
    if (seed >= 3) {
      // Scores on a coarse grid: ties between images and within an image decide
      // the order of equal scores (mergesort in both).
      for (auto& d : c.dets) d.score = std::round(d.score * 10) / 10;
    }
    const auto input = dir / fmt::format("case{}.json", seed);
    testing::write_text(
        input, fmt::format("{{\"gt\":{},\"dets\":{}}}", coco::to_json(c.gt), results_json(c.dets)));
    const auto output = dir / fmt::format("case{}.out", seed);
    const auto command = fmt::format(
        "/usr/bin/python3 '{}/tests/report/cocoeval_reference.py' "
        "'{}' > '{}'",
        CTPREP_SOURCE_DIR, input.string(), output.string());
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    std::istringstream in(testing::read_text(output));
    const auto m = evaluate_coco(c.gt, c.dets, params);
    for (std::size_t i = 0; i < 12; ++i) {
      double expected = 0;
      ASSERT_TRUE(in >> expected);
      EXPECT_NEAR(m.stats[i].value_or(-1.0), expected, 1e-12)
          << "seed " << seed << " " << coco_stat_names[i];
    }
    for (const auto& k : m.classes) {
      double expected = 0;
      ASSERT_TRUE(in >> expected);
      EXPECT_NEAR(k.ap.value_or(-1.0), expected, 1e-12) << "seed " << seed << " " << k.name;
    }
  }
}

}  // namespace
}  // namespace ctprep::report
