// `download`: fetch the no-hemorrhage slices the datasets lack, FP first (SPEC 2).
// Three steps, each a plain function: scan what exists, plan what to fetch, fetch and
// convert. Conversion runs in worker threads while other transfers are in flight.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"
#include "ctprep/core/identity.hpp"
#include "ctprep/core/progress.hpp"
#include "ctprep/dicom/convert.hpp"
#include "ctprep/fetch/getter.hpp"
#include "ctprep/pipeline/feedback_csv.hpp"

namespace ctprep::pipeline {

// ---- 1. what exists -------------------------------------------------------------

struct existing_scan {
  std::set<core::slice_id> ids;
  std::size_t images = 0;          // image entries or files read
  std::vector<std::string> notes;  // "'dir': 3 split files, 120 images", skipped names
};

// Adds the slices of one dataset folder: its split JSONs (train|valid|test), else a flat
// _annotations.coco.json, else its image files. Names the identity rule cannot read are
// noted, not fatal. not_found when the folder does not exist.
[[nodiscard]] core::result<void> scan_existing(const std::filesystem::path& dir,
                                               existing_scan& into);

// The finished slices of the output folder: "<pid>_<inst>.png" files that decode
// completely (a half-written PNG from a killed run is not finished, SPEC 3). With
// `dicom_only`, "<pid>_<inst>.dcm" files (written atomically, so present = finished).
struct finished_scan {
  std::set<core::slice_id> ids;
  std::vector<std::string> broken;     // file names that did not decode (they will be redone)
  std::size_t temp_files_removed = 0;  // leftovers of a killed run's atomic writes
};
// `keep`, when set, limits the scan to the slices it accepts (a shard decodes only its own
// files, not the whole shared folder).
[[nodiscard]] finished_scan scan_finished(
    const std::filesystem::path& dir, bool dicom_only, unsigned jobs,
    const std::function<bool(const core::slice_id&)>& keep = {});

// ---- 2. the plan --------------------------------------------------------------------

// --shard K/N: item goes to shard mix(stable_hash("<pid>_<inst>")) % N, K in [0, N).
struct shard_spec {
  std::uint64_t index = 0;
  std::uint64_t count = 1;
};
[[nodiscard]] core::result<shard_spec> parse_shard(std::string_view text);
[[nodiscard]] std::uint64_t shard_of(const core::slice_id& id, std::uint64_t count) noexcept;
// The same partition for any text key (shard_of(id) == shard_of_key("<pid>_<inst>")):
// `convert --shard` uses it for inputs whose names carry no slice identity.
[[nodiscard]] std::uint64_t shard_of_key(std::string_view key, std::uint64_t count) noexcept;

struct plan_options {
  std::optional<std::size_t> max_images;  // cut after FP-then-TN ordering
  bool fp_only = false;
  shard_spec shard;
  // false: finished slices are set aside before the --max-images cut (a re-run fetches N
  // more). true (sharded runs): the cut is taken over finished and missing slices alike,
  // so the plan does not move while shards sharing one output folder finish their items,
  // and a re-run of a shard resumes the same plan.
  bool cut_includes_finished = false;
};

struct download_item {
  feedback_row row;
  std::string file_name;  // "<pid>_<inst>" + extension (.png, or .dcm with --no-convert)
};

struct class_counts {
  std::size_t in_csv = 0;    // unique slices of the class
  std::size_t present = 0;   // already in an existing dataset
  std::size_t finished = 0;  // already in the output folder (resume)
  std::size_t missing = 0;   // in_csv - present - finished
  std::size_t planned = 0;   // in this run (after --fp-only, --max-images, --shard)
};

struct download_plan {
  class_counts fp, tn;
  std::size_t cut_by_max = 0;        // rows left out by --max-images / --fp-only
  std::size_t other_shards = 0;      // planned rows that belong to other shards
  std::vector<download_item> items;  // FP first, then TN, CSV order within each
};

// The plan: every missing FP row, then missing TN rows in CSV order, cut to max_images
// (FP always first), then only this shard's part of that cut (so the union of the N
// shards is the unsharded plan).
[[nodiscard]] download_plan make_plan(const feedback_table& csv,
                                      const std::set<core::slice_id>& present,
                                      const std::set<core::slice_id>& finished,
                                      const plan_options& options,
                                      std::string_view extension = ".png");

// ---- 3. fetch and convert -------------------------------------------------------------

// What a converter makes of one fetched object: PNG bytes, or a deliberate skip (slice
// thickness). A conversion error is an error (the original counted those as skipped).
struct converted {
  bool skipped = false;
  std::string png;
  std::string reason;  // the skip reason
  std::vector<std::string> warnings;
};
using converter =
    std::function<core::result<converted>(std::string_view bytes, std::string_view origin)>;

// `convert`'s pixel path (dicom::convert_dicom) as a download converter: a slice
// outside the accepted thicknesses is skipped; a DICOM without an image or one that
// cannot be decoded is an error (failed, with the reason).
[[nodiscard]] converter dicom_converter(const dicom::convert_options& options);

enum class item_outcome { ok, skipped, failed, not_attempted };
[[nodiscard]] std::string_view outcome_name(item_outcome o) noexcept;

struct download_options {
  std::filesystem::path output_dir;
  std::filesystem::path keep_dicom;  // "" : do not keep the DICOMs
  bool convert = true;               // false (--no-convert): keep_dicom only
  converter convert_fn;              // required when convert
  unsigned convert_threads = 0;      // 0: all cores
  fetch::transfer_options transfer;
  std::filesystem::path log_path;  // JSON lines, appended; "" : no log
  core::progress* progress = nullptr;
  const std::atomic<bool>* cancel = nullptr;
};

struct item_report {
  item_outcome outcome = item_outcome::not_attempted;
  std::string reason;
  fetch::failure_kind failure = fetch::failure_kind::none;  // for failed fetches
  std::uint64_t bytes = 0;
  int attempts = 0;
  double ms = 0;
  std::vector<std::string> warnings;
};

struct download_report {
  std::vector<item_report> items;  // one per plan item, in plan order
  std::size_t ok = 0, skipped = 0, failed = 0, not_attempted = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
  // Set when the run stopped early because the credentials were refused (wrong secret,
  // unknown key, expired token): nothing else could have succeeded.
  std::optional<core::error> fatal;
};

// Fetches and converts every plan item. Errors only for what stops everything before
// it starts (the output folder cannot be created, no converter); per-item failures are
// recorded in the report and the log.
[[nodiscard]] core::result<download_report> run_download(const download_plan& plan,
                                                         const download_options& options);

}  // namespace ctprep::pipeline
