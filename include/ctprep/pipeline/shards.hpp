// Sharded downloads (`download --shard K/N`) and their merge (`download-merge`).
// Each shard keeps a record in <dir>/.ctprep-shards/K-of-N.json: its whole part of the
// plan (every item, finished or not), a digest of the whole unsharded plan, where its
// per-item log is, and whether its last run ran to the end. The merge checks every shard
// from those records, the files and the logs, and refuses while any shard is incomplete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ctprep/core/error.hpp"
#include "ctprep/pipeline/download.hpp"

namespace ctprep::pipeline {

inline constexpr std::string_view shard_folder_name = ".ctprep-shards";
inline constexpr std::string_view merge_summary_name = ".download-summary.json";

// <dir>/.ctprep-shards/K-of-N.json and <dir>/.ctprep-shards/K-of-N.log.jsonl (the default
// per-item log of a shard: shards sharing one folder do not append to one file).
[[nodiscard]] std::filesystem::path shard_state_path(const std::filesystem::path& dir,
                                                     const shard_spec& shard);
[[nodiscard]] std::filesystem::path shard_log_path(const std::filesystem::path& dir,
                                                   const shard_spec& shard);

struct shard_item {
  std::uint64_t position = 0;  // in the whole plan
  std::string id;              // "<pid>_<inst>"
};

struct shard_state {
  shard_spec shard;
  std::string plan_digest;  // of the whole unsharded plan: every shard must agree
  std::uint64_t plan_total = 0;
  std::string extension = ".png";
  bool done = false;              // its last run ran to the end (not killed, not interrupted)
  std::filesystem::path log;      // its per-item log ("" : none)
  std::vector<shard_item> items;  // its part of the whole plan, in plan order
};

// The record of `shard`'s part of `whole`, the unsharded plan made with
// cut_includes_finished and no finished slices (so it does not change while shards run).
[[nodiscard]] shard_state make_shard_state(const download_plan& whole, const shard_spec& shard,
                                           const std::filesystem::path& log,
                                           std::string_view extension);
// Written atomically (a killed run leaves the previous record or the new one).
[[nodiscard]] core::result<void> write_shard_state(const std::filesystem::path& path,
                                                   const shard_state& state);
[[nodiscard]] core::result<shard_state> read_shard_state(const std::filesystem::path& path);

struct merged_item {
  std::uint64_t position = 0;
  std::uint64_t shard = 0;
  std::string id;
  item_outcome outcome = item_outcome::not_attempted;  // not_attempted: no outcome (missing)
  std::string reason;
};

struct shard_status {
  std::uint64_t index = 0;
  std::string problem;  // empty: complete
  std::size_t planned = 0, ok = 0, skipped = 0, failed = 0, missing = 0;
};

struct merge_check {
  std::uint64_t count = 0;
  std::string extension = ".png";
  std::uint64_t plan_total = 0;
  std::vector<shard_status> shards;  // one per shard, 0..N-1
  std::vector<merged_item> items;    // the shards' items, in whole-plan order
  std::size_t ok = 0, skipped = 0, failed = 0, missing = 0;
  std::size_t temp_files_removed = 0;
  [[nodiscard]] std::vector<std::uint64_t> incomplete() const;
};

// A shard is complete when its record says its last run ran to the end, it was planned
// from the same inputs as the others, and every one of its items has an outcome: a
// finished file that decodes (ok), or a logged skip or failure. Errors only when `dir`
// cannot be read; per-shard problems are data (merge_check::shards[k].problem).
[[nodiscard]] core::result<merge_check> check_shards(const std::filesystem::path& dir,
                                                     std::uint64_t count, unsigned jobs);

// The one summary of all shards' logs (JSON): totals, per-shard counts, and every item
// that is not ok with its shard and reason, in plan order.
[[nodiscard]] std::string merge_summary_json(const merge_check& check);

}  // namespace ctprep::pipeline
