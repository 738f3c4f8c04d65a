#include "ctprep/fetch/credentials.hpp"

#include <gtest/gtest.h>

#include <map>

#include "support/testing.hpp"

namespace ctprep::fetch {
namespace {

env_lookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(env_file, parses_dotenv_syntax) {
  auto m = parse_env_file(
      "\xEF\xBB\xBF# comment\n\nAWS_ACCESS_KEY=AK1\r\nexport AWS_SECRET_KEY = \"s e#c\" \n"
      "A='q' \nB=plain # trailing\nC=\n",
      ".env");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->at("AWS_ACCESS_KEY"), "AK1");
  EXPECT_EQ(m->at("AWS_SECRET_KEY"), "s e#c");
  EXPECT_EQ(m->at("A"), "q");
  EXPECT_EQ(m->at("B"), "plain");
  EXPECT_EQ(m->at("C"), "");
}

TEST(env_file, names_the_bad_line_but_never_the_value) {
  auto m = parse_env_file("A=1\nAWS_SECRET_KEY=\"supersecret\n", "x.env");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message,
            "bad_argument: 'x.env' line 2: value of AWS_SECRET_KEY has no closing quote");
  auto n = parse_env_file("justtext\n", "x.env");
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().message, "bad_argument: 'x.env' line 1: expected KEY=VALUE");
}

TEST(aws_settings, looks_in_environment_then_env_file_then_profile) {
  testing::temp_dir dir;
  testing::write_text(dir / ".env",
                      "AWS_ACCESS_KEY=DOTENV_AK\nAWS_SECRET_KEY=DOTENV_SK\n"
                      "AWS_REGION=eu-west-3\nAWS_ENDPOINT_URL=http://e:1\n");
  testing::write_text(dir / "credentials",
                      "[default]\naws_access_key_id = PROF_AK\naws_secret_access_key = PROF_SK\n"
                      "[other]\naws_access_key_id=O_AK\naws_secret_access_key=O_SK\n"
                      "aws_session_token=O_T\n");
  const std::string shared = (dir / "credentials").string();

  credential_options o;
  o.env_file = dir / ".env";
  o.env = fake_env({{"AWS_ACCESS_KEY_ID", "ENV_AK"},
                    {"AWS_SECRET_ACCESS_KEY", "ENV_SK"},
                    {"AWS_SESSION_TOKEN", "ENV_T"},
                    {"AWS_SHARED_CREDENTIALS_FILE", shared}});
  auto s = resolve_aws_settings(o);
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->creds);
  EXPECT_EQ(s->creds->access_key, "ENV_AK");
  EXPECT_EQ(s->creds->session_token, "ENV_T");
  EXPECT_EQ(s->creds->source, "environment");
  EXPECT_EQ(s->region, "eu-west-3");  // from the env file: the environment sets none
  EXPECT_EQ(s->endpoint_url, "http://e:1");

  o.env = fake_env({{"AWS_SHARED_CREDENTIALS_FILE", shared}, {"AWS_REGION", "us-west-1"}});
  s = resolve_aws_settings(o);
  ASSERT_TRUE(s && s->creds);
  EXPECT_EQ(s->creds->access_key, "DOTENV_AK");
  EXPECT_EQ(s->creds->secret_key, "DOTENV_SK");
  EXPECT_EQ(s->region, "us-west-1");

  o.env_file = dir / "absent.env";
  s = resolve_aws_settings(o);
  ASSERT_TRUE(s && s->creds);
  EXPECT_EQ(s->creds->access_key, "PROF_AK");

  o.profile = "other";  // an explicit profile goes first
  o.env_file = dir / ".env";
  s = resolve_aws_settings(o);
  ASSERT_TRUE(s && s->creds);
  EXPECT_EQ(s->creds->access_key, "O_AK");
  EXPECT_EQ(s->creds->session_token, "O_T");

  o.profile = "missing";
  s = resolve_aws_settings(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, core::error_code::auth);
  EXPECT_NE(s.error().message.find("profile 'missing'"), std::string::npos);
}

TEST(aws_settings, finds_nothing_without_failing_and_requires_an_explicit_env_file) {
  testing::temp_dir dir;
  credential_options o;
  o.env_file = dir / ".env";
  o.env = fake_env({{"HOME", dir.path().string()}});
  auto s = resolve_aws_settings(o);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_FALSE(s->creds);
  o.env_file_required = true;
  s = resolve_aws_settings(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, core::error_code::not_found);
}

TEST(aws_settings, rejects_half_credentials_without_printing_them) {
  testing::temp_dir dir;
  testing::write_text(dir / ".env", "AWS_SECRET_KEY=TOPSECRET\n");
  credential_options o;
  o.env_file = dir / ".env";
  o.env = fake_env({});
  auto s = resolve_aws_settings(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, core::error_code::auth);
  EXPECT_EQ(s.error().message.find("TOPSECRET"), std::string::npos);
  o.env = fake_env({{"AWS_SECRET_ACCESS_KEY", "TOPSECRET"}});
  s = resolve_aws_settings(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message.find("TOPSECRET"), std::string::npos);
}

}  // namespace
}  // namespace ctprep::fetch
