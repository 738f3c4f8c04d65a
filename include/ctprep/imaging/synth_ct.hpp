// CT-like 8-bit slices for synthetic worlds: a skull ring, brain tissue with noise and
// texture, dark ventricles, and bright hemorrhages inside the given boxes. Deterministic
// for the generator state.
#pragma once

#include <vector>

#include "ctprep/core/dataset.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/imaging/codec.hpp"

namespace ctprep::imaging {

struct ct_slice_spec {
  int size = 512;
  int channels = 1;                // 3: gray replicated (as Roboflow exports are RGB)
  std::vector<core::box> lesions;  // bright blobs drawn inside these boxes
};

[[nodiscard]] image_u8 render_ct_slice(const ct_slice_spec& spec, core::rng& random);

}  // namespace ctprep::imaging
