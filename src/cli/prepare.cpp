// ctprep prepare: the v4 build (SPEC 2), from a recipe.
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "ctprep/pipeline/prepare.hpp"
#include "ctprep/pipeline/recipe.hpp"

namespace ctprep::cli {
namespace {
namespace fs = std::filesystem;

struct prepare_cli_options {
  fs::path recipe_file;
  fs::path data_root;
  fs::path output;
  std::uint64_t seed = 0;
  bool seed_set = false;
  int multiplier = 0;
  std::string four_class_empty;
  bool print_recipe = false;
  bool dry_run = false;
  bool skip_augmentation = false;
  common_options common;
};

int run_prepare_command(const prepare_cli_options& o) {
  pipeline::recipe r = pipeline::default_recipe();
  if (!o.recipe_file.empty()) {
    auto read = pipeline::read_recipe(o.recipe_file);
    if (!read) return report_error("prepare", read.error());
    r = std::move(*read);
  }
  if (o.seed_set) r.seed = o.seed;
  if (o.multiplier > 0) r.multiplier = o.multiplier;
  if (o.four_class_empty == "keep-negative")
    r.four_class_empty = pipeline::empty_image_policy::keep_negative;
  else if (o.four_class_empty == "drop")
    r.four_class_empty = pipeline::empty_image_policy::drop;
  if (!o.data_root.empty()) r.data_root = o.data_root.string();
  if (o.print_recipe) {
    fmt::print("{}", pipeline::to_yaml(r));
    return exit_ok;
  }
  pipeline::prepare_options p;
  p.r = r;
  p.data_root = fs::path(r.data_root);
  p.output = o.output.empty() ? p.data_root / r.output : o.output;
  p.jobs = o.common.jobs;
  p.dry_run = o.dry_run;
  p.skip_augmentation = o.skip_augmentation;
  const bool quiet = o.common.quiet;
  p.make_progress = [quiet](std::string label, std::uint64_t total) {
    return make_progress(std::move(label), total, quiet);
  };
  pipeline::log_sinks log;
  log.info = [quiet](std::string_view line) {
    if (!quiet) {
      fmt::print("{}\n", line);
      std::fflush(stdout);
    }
  };
  log.warn = [](std::string_view line) { print_warning("prepare", line); };
  auto result = pipeline::run_prepare(p, log);
  if (!result) return report_error("prepare", result.error());
  if (result->warnings > 0 && !quiet)
    fmt::print("Finished with {} warning(s) (see stderr)\n", result->warnings);
  return exit_ok;
}

run_function setup_prepare(CLI::App& app) {
  auto o = std::make_shared<prepare_cli_options>();
  app.add_option("--recipe", o->recipe_file, "Recipe YAML (default: the built-in v4 recipe)");
  app.add_option("--data-root", o->data_root,
                 "Folder the recipe's paths are relative to (default: recipe's data_root, 'data')");
  app.add_option("--output", o->output,
                 "Folder for 6class_coco... (default: <data-root>/<recipe output>)");
  app.add_option("--seed", o->seed, "Seed for the split and the augmentation (default 42)")
      ->each([o](const std::string&) { o->seed_set = true; });
  app.add_option("--multiplier", o->multiplier,
                 "Augmented versions per train image, original included (default 3)")
      ->check(CLI::Range(1, 100));
  app.add_option("--four-class-empty", o->four_class_empty,
                 "4-class images left without boxes: drop (default) or keep-negative")
      ->check(CLI::IsMember({"drop", "keep-negative"}));
  app.add_flag("--print-recipe", o->print_recipe,
               "Print the recipe in use (canonical YAML) and exit");
  app.add_flag("--dry-run", o->dry_run, "Stop after [5.6/9] and print the plan");
  app.add_flag("--skip-augmentation", o->skip_augmentation,
               "Write 6class_coco without augmented versions");
  add_jobs_option(app, o->common);
  add_quiet_option(app, o->common);
  return [o] { return run_prepare_command(*o); };
}

const registrar reg{{"prepare",
                     "Build the v4 datasets: merge, clip, split, balance, augment, 4-class",
                     setup_prepare}};

}  // namespace
}  // namespace ctprep::cli
