#include "ctprep/fetch/credentials.hpp"

#include <cstdlib>
#include <system_error>

#include <fmt/format.h>

#include "ctprep/core/files.hpp"

namespace ctprep::fetch {
namespace fs = std::filesystem;
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

template <typename F>
void for_each_line(std::string_view text, F&& fn) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::size_t line = 1;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    fn(line++, text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

std::string non_empty(const std::map<std::string, std::string>& m, const char* key) {
  const auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

}  // namespace

core::result<std::map<std::string, std::string>> parse_env_file(std::string_view text,
                                                                std::string_view origin) {
  std::map<std::string, std::string> out;
  std::optional<core::error> error;
  for_each_line(text, [&](std::size_t line, std::string_view raw) {
    if (error) return;
    auto s = trim(raw);
    if (s.empty() || s.front() == '#') return;
    if (s.starts_with("export ")) s = trim(s.substr(7));
    const auto eq = s.find('=');
    const auto key = eq == std::string_view::npos ? s : trim(s.substr(0, eq));
    const bool key_ok = !key.empty() && key.find_first_of(" \t\"'") == std::string_view::npos;
    if (eq == std::string_view::npos || !key_ok) {
      error = core::error::make(core::error_code::bad_argument,
                                fmt::format("'{}' line {}: expected KEY=VALUE", origin, line));
      return;
    }
    auto value = trim(s.substr(eq + 1));
    if (!value.empty() && (value.front() == '"' || value.front() == '\'')) {
      const char quote = value.front();
      const auto close = value.find(quote, 1);
      if (close == std::string_view::npos) {
        error = core::error::make(
            core::error_code::bad_argument,
            fmt::format("'{}' line {}: value of {} has no closing quote", origin, line, key));
        return;
      }
      value = value.substr(1, close - 1);
    } else if (const auto hash = value.find(" #"); hash != std::string_view::npos) {
      value = trim(value.substr(0, hash));
    }
    out[std::string(key)] = std::string(value);
  });
  if (error) return tl::unexpected(*error);
  return out;
}

core::result<std::map<std::string, std::map<std::string, std::string>>> parse_ini_file(
    std::string_view text, std::string_view origin) {
  std::map<std::string, std::map<std::string, std::string>> out;
  std::string section;
  std::optional<core::error> error;
  for_each_line(text, [&](std::size_t line, std::string_view raw) {
    if (error) return;
    const auto s = trim(raw);
    if (s.empty() || s.front() == '#' || s.front() == ';') return;
    if (s.front() == '[') {
      if (s.back() != ']') {
        error = core::error::make(
            core::error_code::bad_argument,
            fmt::format("'{}' line {}: section header without ']'", origin, line));
        return;
      }
      section = std::string(trim(s.substr(1, s.size() - 2)));
      if (section.starts_with("profile ")) section = std::string(trim(section.substr(8)));
      out[section];
      return;
    }
    const auto eq = s.find('=');
    if (eq == std::string_view::npos || section.empty()) {
      error = core::error::make(
          core::error_code::bad_argument,
          fmt::format("'{}' line {}: expected key = value in a [profile]", origin, line));
      return;
    }
    out[section][std::string(trim(s.substr(0, eq)))] = std::string(trim(s.substr(eq + 1)));
  });
  if (error) return tl::unexpected(*error);
  return out;
}

env_lookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

core::result<aws_settings> resolve_aws_settings(const credential_options& options) {
  aws_settings out;
  auto env = [&](std::string_view name) {
    auto v = options.env ? options.env(name) : std::nullopt;
    return v ? *v : std::string();
  };

  // The env file, read once (its absence is fine unless it was asked for).
  std::map<std::string, std::string> dotenv;
  const auto env_file = options.env_file.string();
  std::error_code ec;
  if (!options.env_file.empty() && fs::exists(options.env_file, ec)) {
    auto text = core::read_file(options.env_file);
    if (!text) return tl::unexpected(text.error());
    auto parsed = parse_env_file(*text, env_file);
    if (!parsed) return tl::unexpected(parsed.error());
    dotenv = std::move(*parsed);
  } else if (options.env_file_required) {
    return core::fail(core::error_code::not_found,
                      fmt::format("env file '{}' does not exist", env_file));
  }

  // The shared credentials file and the profile in it.
  const std::string profile = !options.profile.empty()      ? options.profile
                              : !env("AWS_PROFILE").empty() ? env("AWS_PROFILE")
                              : !non_empty(dotenv, "AWS_PROFILE").empty()
                                  ? non_empty(dotenv, "AWS_PROFILE")
                                  : std::string("default");
  fs::path shared = env("AWS_SHARED_CREDENTIALS_FILE");
  if (shared.empty() && !env("HOME").empty())
    shared = fs::path(env("HOME")) / ".aws" / "credentials";
  auto from_profile = [&]() -> core::result<std::optional<credentials>> {
    if (shared.empty() || !fs::exists(shared, ec)) {
      if (!options.profile.empty()) {
        return core::fail(core::error_code::auth,
                          fmt::format("profile '{}' asked for, but the shared credentials file "
                                      "'{}' does not exist",
                                      profile, shared.string()));
      }
      return std::optional<credentials>{};
    }
    auto text = core::read_file(shared);
    if (!text) return tl::unexpected(text.error());
    auto ini = parse_ini_file(*text, shared.string());
    if (!ini) return tl::unexpected(ini.error());
    const auto it = ini->find(profile);
    if (it == ini->end()) {
      if (!options.profile.empty()) {
        return core::fail(core::error_code::auth,
                          fmt::format("profile '{}' is not in '{}'", profile, shared.string()));
      }
      return std::optional<credentials>{};
    }
    credentials c{non_empty(it->second, "aws_access_key_id"),
                  non_empty(it->second, "aws_secret_access_key"),
                  non_empty(it->second, "aws_session_token"),
                  fmt::format("profile '{}' in '{}'", profile, shared.string())};
    if (c.access_key.empty() || c.secret_key.empty()) {
      return core::fail(core::error_code::auth,
                        fmt::format("profile '{}' in '{}' lacks aws_access_key_id or "
                                    "aws_secret_access_key",
                                    profile, shared.string()));
    }
    if (out.region.empty()) out.region = non_empty(it->second, "region");
    return std::optional<credentials>{std::move(c)};
  };

  out.region = !env("AWS_REGION").empty()                 ? env("AWS_REGION")
               : !env("AWS_DEFAULT_REGION").empty()       ? env("AWS_DEFAULT_REGION")
               : !non_empty(dotenv, "AWS_REGION").empty() ? non_empty(dotenv, "AWS_REGION")
                                                          : non_empty(dotenv, "AWS_DEFAULT_REGION");
  out.endpoint_url = !env("AWS_ENDPOINT_URL").empty() ? env("AWS_ENDPOINT_URL")
                                                      : non_empty(dotenv, "AWS_ENDPOINT_URL");
  out.searched = fmt::format(
      "environment AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, env file '{}', profile '{}' in '{}'",
      env_file, profile, shared.string());

  if (!options.profile.empty()) {
    auto c = from_profile();
    if (!c) return tl::unexpected(c.error());
    out.creds = std::move(*c);
    return out;
  }
  if (!env("AWS_ACCESS_KEY_ID").empty() || !env("AWS_SECRET_ACCESS_KEY").empty()) {
    if (env("AWS_ACCESS_KEY_ID").empty() || env("AWS_SECRET_ACCESS_KEY").empty()) {
      return core::fail(core::error_code::auth,
                        "the environment sets only one of AWS_ACCESS_KEY_ID and "
                        "AWS_SECRET_ACCESS_KEY");
    }
    out.creds = credentials{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"),
                            env("AWS_SESSION_TOKEN"), "environment"};
    return out;
  }
  const auto ak = !non_empty(dotenv, "AWS_ACCESS_KEY_ID").empty()
                      ? non_empty(dotenv, "AWS_ACCESS_KEY_ID")
                      : non_empty(dotenv, "AWS_ACCESS_KEY");
  const auto sk = !non_empty(dotenv, "AWS_SECRET_ACCESS_KEY").empty()
                      ? non_empty(dotenv, "AWS_SECRET_ACCESS_KEY")
                      : non_empty(dotenv, "AWS_SECRET_KEY");
  if (!ak.empty() || !sk.empty()) {
    if (ak.empty() || sk.empty()) {
      return core::fail(core::error_code::auth,
                        fmt::format("env file '{}' sets only one of the access key "
                                    "(AWS_ACCESS_KEY / AWS_ACCESS_KEY_ID) and the secret key "
                                    "(AWS_SECRET_KEY / AWS_SECRET_ACCESS_KEY)",
                                    env_file));
    }
    out.creds = credentials{ak, sk, non_empty(dotenv, "AWS_SESSION_TOKEN"),
                            fmt::format("env file '{}'", env_file)};
    return out;
  }
  auto c = from_profile();
  if (!c) return tl::unexpected(c.error());
  out.creds = std::move(*c);
  return out;
}

}  // namespace ctprep::fetch
