#include "ctprep/imaging/synth_ct.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace ctprep::imaging {

image_u8 render_ct_slice(const ct_slice_spec& spec, core::rng& random) {
  const int n = spec.size;
  const double s = n / 512.0;
  cv::Mat img(n, n, CV_8UC1, cv::Scalar(0));
  const cv::Point center(
      n / 2 + static_cast<int>(static_cast<double>(random.between(-12, 12)) * s),
      n / 2 + static_cast<int>(static_cast<double>(random.between(-12, 12)) * s));
  const cv::Size axes(static_cast<int>(n * random.uniform(0.36, 0.42)),
                      static_cast<int>(n * random.uniform(0.42, 0.47)));
  const double tilt = random.uniform(-8, 8);
  // Skull, then brain tissue inside it.
  cv::ellipse(img, center, axes, tilt, 0, 360,
              cv::Scalar(static_cast<double>(random.between(225, 250))), cv::FILLED, cv::LINE_AA);
  const int bone = std::max(2, static_cast<int>(static_cast<double>(random.between(8, 14)) * s));
  cv::ellipse(img, center, cv::Size(axes.width - bone, axes.height - bone), tilt, 0, 360,
              cv::Scalar(static_cast<double>(random.between(88, 104))), cv::FILLED, cv::LINE_AA);
  // Grey/white matter: a few softer blobs.
  for (int k = 0; k < 6; ++k) {
    const cv::Point c(center.x + static_cast<int>(random.uniform(-0.5, 0.5) * axes.width),
                      center.y + static_cast<int>(random.uniform(-0.5, 0.5) * axes.height));
    const cv::Size a(static_cast<int>(random.uniform(0.1, 0.25) * n),
                     static_cast<int>(random.uniform(0.1, 0.25) * n));
    cv::ellipse(img, c, a, random.uniform(0, 180), 0, 360,
                cv::Scalar(static_cast<double>(random.between(78, 92))), cv::FILLED, cv::LINE_AA);
  }
  cv::ellipse(img, center, cv::Size(axes.width - bone, axes.height - bone), tilt, 0, 360,
              cv::Scalar(static_cast<double>(random.between(225, 250))), bone, cv::LINE_AA);
  // Ventricles.
  for (int side : {-1, 1}) {
    const cv::Point c(center.x + side * static_cast<int>(n * random.uniform(0.03, 0.06)),
                      center.y - static_cast<int>(n * random.uniform(0.0, 0.05)));
    cv::ellipse(
        img, c,
        cv::Size(static_cast<int>(n * 0.025), static_cast<int>(n * random.uniform(0.06, 0.1))),
        side * random.uniform(10, 25), 0, 360, cv::Scalar(35), cv::FILLED, cv::LINE_AA);
  }
  // Hemorrhages: bright, irregular, inside their boxes.
  for (const auto& b : spec.lesions) {
    const double bx = std::max(0.0, b.x), by = std::max(0.0, b.y);
    const double bw = std::min<double>(n, b.x + b.w) - bx, bh = std::min<double>(n, b.y + b.h) - by;
    if (bw < 2 || bh < 2) continue;
    const cv::Point c(static_cast<int>(bx + bw / 2), static_cast<int>(by + bh / 2));
    const double level = static_cast<double>(random.between(150, 190));
    cv::ellipse(img, c,
                cv::Size(std::max(1, static_cast<int>(bw * 0.45)),
                         std::max(1, static_cast<int>(bh * 0.45))),
                random.uniform(0, 20), 0, 360, cv::Scalar(level), cv::FILLED, cv::LINE_AA);
    cv::ellipse(
        img, cv::Point(c.x + static_cast<int>(bw * random.uniform(-0.15, 0.15)), c.y),
        cv::Size(std::max(1, static_cast<int>(bw * 0.3)), std::max(1, static_cast<int>(bh * 0.3))),
        random.uniform(0, 180), 0, 360, cv::Scalar(level + 15), cv::FILLED, cv::LINE_AA);
  }
  // Soft edges and scanner noise.
  cv::GaussianBlur(img, img, cv::Size(3, 3), 0);
  cv::Mat noise(n, n, CV_16SC1);
  cv::RNG cvrng(random.next());
  cvrng.fill(noise, cv::RNG::NORMAL, 0, 6);
  cv::Mat wide;
  img.convertTo(wide, CV_16SC1);
  wide += noise;
  wide.convertTo(img, CV_8UC1);
  img.setTo(0, img < 12);  // air stays black
  if (spec.channels == 3) cv::cvtColor(img, img, cv::COLOR_GRAY2RGB);
  image_u8 out{n, n, img.channels(), {}};
  out.pixels.assign(img.data, img.data + img.total() * img.elemSize());
  return out;
}

}  // namespace ctprep::imaging
