// AWS credentials and region, looked up in a documented order (docs/cli.md):
//   1. the environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//   2. the env file (default ".env"; the original's AWS_ACCESS_KEY / AWS_SECRET_KEY, or
//      the standard names, + AWS_SESSION_TOKEN);
//   3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
//      ~/.aws/credentials), profile --profile, else AWS_PROFILE, else "default".
// An explicit --profile goes first. Secrets are never put in messages: errors name
// files, keys and profiles only.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ctprep/core/error.hpp"

namespace ctprep::fetch {

struct credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty unless temporary credentials
  std::string source;         // where they came from: "environment", "env file '.env'", ...
};

// KEY=VALUE lines of a dotenv file: '#' comments, blank lines, an optional "export ",
// values optionally in single or double quotes (a '#' after a space ends an unquoted
// value). A malformed line is bad_argument naming the file and line (never the value).
[[nodiscard]] core::result<std::map<std::string, std::string>> parse_env_file(
    std::string_view text, std::string_view origin);

// The [profile] sections of an AWS shared credentials/config file.
[[nodiscard]] core::result<std::map<std::string, std::map<std::string, std::string>>>
parse_ini_file(std::string_view text, std::string_view origin);

using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;
[[nodiscard]] env_lookup process_environment();

struct credential_options {
  std::filesystem::path env_file = ".env";
  bool env_file_required = false;  // true when --env-file was given: missing is not_found
  std::string profile;             // --profile ("" unless given)
  env_lookup env = process_environment();
};

struct aws_settings {
  std::optional<credentials> creds;  // nullopt when none was found anywhere
  std::string region;                // AWS_REGION / AWS_DEFAULT_REGION (env, then env file)
  std::string endpoint_url;          // AWS_ENDPOINT_URL (env, then env file)
  std::string searched;              // where we looked, for the "no credentials" message
};

[[nodiscard]] core::result<aws_settings> resolve_aws_settings(const credential_options& options);

}  // namespace ctprep::fetch
