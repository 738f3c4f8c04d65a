// The S3 access options (endpoint, addressing, region, credentials) that download and
// `synth world --with-store` share, and the transfer settings they resolve to.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "ctprep/core/error.hpp"
#include "ctprep/fetch/credentials.hpp"
#include "ctprep/fetch/getter.hpp"

namespace ctprep::cli {

struct s3_access_options {
  std::string endpoint_url;
  std::string addressing = "auto";
  std::string region;
  std::string profile;
  std::filesystem::path env_file = ".env";
  bool no_sign_request = false;
};

inline void add_s3_access_options(CLI::App& app, s3_access_options& o) {
  app.add_option("--endpoint-url", o.endpoint_url,
                 "S3-compatible endpoint (default: AWS_ENDPOINT_URL, else AWS)");
  app.add_option("--addressing-style", o.addressing, "S3 addressing: auto, path or virtual")
      ->check(CLI::IsMember({"auto", "path", "virtual"}))
      ->capture_default_str();
  app.add_option("--region", o.region,
                 "Region when the URL names none (default AWS_REGION / AWS_DEFAULT_REGION, "
                 "else us-east-1)");
  app.add_option("--profile", o.profile, "Profile of the shared credentials file");
  app.add_option("--env-file", o.env_file, "dotenv file with AWS_ACCESS_KEY / AWS_SECRET_KEY")
      ->capture_default_str();
  app.add_flag("--no-sign-request", o.no_sign_request, "Do not sign requests (public buckets)");
}

// The options that differ from their defaults, as download's arguments (what `ctprep run`
// passes on; defaults are left out so the stage's recorded command stays the same).
inline void append_s3_access_args(const s3_access_options& o, std::vector<std::string>& args) {
  if (!o.endpoint_url.empty()) args.insert(args.end(), {"--endpoint-url", o.endpoint_url});
  if (o.addressing != "auto") args.insert(args.end(), {"--addressing-style", o.addressing});
  if (o.env_file != ".env") args.insert(args.end(), {"--env-file", o.env_file.string()});
  if (!o.profile.empty()) args.insert(args.end(), {"--profile", o.profile});
  if (!o.region.empty()) args.insert(args.end(), {"--region", o.region});
  if (o.no_sign_request) args.push_back("--no-sign-request");
}

// Fills endpoint, region and credentials of `transfer` (credentials never printed: only
// where they came from). Without credentials and needs_s3, an auth error that says where
// we looked.
inline core::result<void> resolve_s3_access(const s3_access_options& o, bool needs_s3,
                                            fetch::transfer_options& transfer) {
  fetch::credential_options co;
  co.env_file = o.env_file;
  co.env_file_required = o.env_file != ".env";
  co.profile = o.profile;
  auto settings = fetch::resolve_aws_settings(co);
  if (!settings) return tl::unexpected(settings.error());
  transfer.endpoint.endpoint_url =
      !o.endpoint_url.empty() ? o.endpoint_url : settings->endpoint_url;
  transfer.endpoint.style = o.addressing == "path"      ? fetch::addressing_style::path
                            : o.addressing == "virtual" ? fetch::addressing_style::virtual_hosted
                                                        : fetch::addressing_style::automatic;
  transfer.region = !o.region.empty()           ? o.region
                    : !settings->region.empty() ? settings->region
                                                : "us-east-1";
  if (o.no_sign_request) return {};
  transfer.creds = settings->creds;
  if (needs_s3 && !transfer.creds) {
    return core::fail(core::error_code::auth,
                      fmt::format("no AWS credentials found (looked in: {}); use "
                                  "--no-sign-request for a public bucket",
                                  settings->searched));
  }
  return {};
}

}  // namespace ctprep::cli
