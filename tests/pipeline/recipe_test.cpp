#include "ctprep/pipeline/recipe.hpp"

#include <gtest/gtest.h>

namespace ctprep::pipeline {
namespace {

TEST(recipe, default_recipe_round_trips_through_its_canonical_yaml) {
  const auto r = default_recipe();
  const auto text = to_yaml(r);
  auto back = parse_recipe(text, "default");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(to_yaml(*back), text);
  ASSERT_EQ(back->sources.size(), 2u);
  EXPECT_EQ(back->sources[1].drop, (std::vector<std::string>{"-", "0"}));
  EXPECT_EQ(back->sources[0].classes.size(), 4u);
  EXPECT_EQ(back->sources[1].classes.size(), 6u);
  EXPECT_EQ(recipe_digest(*back), recipe_digest(r));
}

TEST(recipe, digest_ignores_where_the_data_root_is_but_not_what_the_recipe_does) {
  auto here = default_recipe();
  here.data_root = "/mnt/a/data";
  auto there = here;
  there.data_root = "/home/b/data";
  EXPECT_EQ(recipe_digest(here), recipe_digest(there));
  there.seed += 1;
  EXPECT_NE(recipe_digest(here), recipe_digest(there));
}

TEST(recipe, keys_left_out_keep_the_defaults) {
  auto r = parse_recipe("seed: 7\nsplit: {valid: 0.2}\n", "r.yaml");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->seed, 7u);
  EXPECT_DOUBLE_EQ(r->valid_fraction, 0.2);
  EXPECT_DOUBLE_EQ(r->test_fraction, 0.05);
  EXPECT_EQ(r->sources.size(), 2u);
}

TEST(recipe, rejects_an_unknown_key_naming_it) {
  auto r = parse_recipe("seed: 1\nmultiplyer: 3\n", "r.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::error_code::bad_recipe);
  EXPECT_NE(r.error().message.find("'multiplyer'"), std::string::npos) << r.error().message;
  auto nested =
      parse_recipe("sources:\n  - {name: a, path: p, classes: {X: IPH}, prefx: a_}\n", "r.yaml");
  ASSERT_FALSE(nested);
  EXPECT_NE(nested.error().message.find("'prefx'"), std::string::npos);
}

TEST(recipe, rejects_a_class_that_maps_to_nothing_of_the_six) {
  auto r = parse_recipe("sources:\n  - {name: a, path: p, prefix: a_, classes: {IPH: Bleed}}\n",
                        "r.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::error_code::bad_recipe);
  EXPECT_NE(r.error().message.find("'Bleed'"), std::string::npos) << r.error().message;
}

TEST(recipe, rejects_bad_values_and_bad_yaml) {
  EXPECT_FALSE(parse_recipe("split: {valid: 0.7, test: 0.4}\n", "r"));
  EXPECT_FALSE(parse_recipe("balance: {target_ratio: 1.5}\n", "r"));
  EXPECT_FALSE(parse_recipe("augmentation: {multiplier: 0}\n", "r"));
  EXPECT_FALSE(parse_recipe("four_class: {empty_images: maybe}\n", "r"));
  EXPECT_FALSE(parse_recipe("seed: [1, 2]\n", "r"));
  EXPECT_FALSE(parse_recipe("seed: 1\n  bad: : indent\n", "r"));
  EXPECT_FALSE(
      parse_recipe("sources:\n  - {name: a, path: p, prefix: x_, classes: {A: IPH}, "
                   "identity_pattern: '(\\d+)'}\n",
                   "r"));
  EXPECT_FALSE(
      parse_recipe("sources:\n  - {name: a, path: p, prefix: x_, classes: {A: IPH}}\n  - {name: b, "
                   "path: q, prefix: x_, classes: {A: IPH}}\n",
                   "r"));
}

}  // namespace
}  // namespace ctprep::pipeline
