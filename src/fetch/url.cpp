#include "ctprep/fetch/url.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include <fmt/format.h>

namespace ctprep::fetch {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == prefix;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query parameter names whose values are secrets in presigned URLs (SigV4 and SigV2).
constexpr std::array<std::string_view, 6> secret_params = {
    "x-amz-signature", "x-amz-credential", "x-amz-security-token",
    "signature",       "awsaccesskeyid",   "x-amz-session-token"};

bool is_secret_param(std::string_view name) {
  const auto l = lower(name);
  return std::find(secret_params.begin(), secret_params.end(), l) != secret_params.end();
}

bool is_presigned(std::string_view query) {
  std::size_t start = 0;
  while (start <= query.size()) {
    const auto amp = query.find('&', start);
    const auto part = query.substr(start, amp == std::string_view::npos ? query.npos : amp - start);
    const auto name = part.substr(0, part.find('='));
    const auto l = lower(name);
    if (l == "x-amz-signature" || l == "signature") return true;
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return false;
}

// A region label: letters, digits and dashes ("us-east-1", "eu-central-2").
bool plausible_region(std::string_view r) {
  if (r.empty()) return false;
  return std::all_of(r.begin(), r.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

struct s3_host {
  bool is_s3 = false;
  std::string bucket;  // non-empty for virtual-hosted
  std::string region;
};

// The region part after an "s3" label: "" (global), ".REGION", "-REGION",
// ".dualstack.REGION"; nullopt when it is none of these.
std::optional<std::string> region_after_s3(std::string_view rest) {
  if (rest.empty()) return std::string();
  if (rest.front() != '.' && rest.front() != '-') return std::nullopt;
  rest.remove_prefix(1);
  if (rest.starts_with("dualstack.")) rest.remove_prefix(10);
  if (rest == "external-1") return std::string("us-east-1");  // s3-external-1.amazonaws.com
  if (!plausible_region(rest)) return std::nullopt;
  return std::string(rest);
}

// Recognises the AWS S3 host names. `host` is lower-case without port.
s3_host classify_host(std::string_view host) {
  constexpr std::string_view suffix = ".amazonaws.com";
  s3_host out;
  if (!host.ends_with(suffix)) return out;
  const auto head = host.substr(0, host.size() - suffix.size());  // e.g. "b.s3.us-west-2"
  // Virtual-hosted: "<bucket>.s3", "<bucket>.s3.REGION", "<bucket>.s3-REGION" (bucket
  // names may hold dots, so the last s3 label wins).
  std::size_t s3_at = std::string_view::npos;
  if (head.ends_with(".s3")) {
    s3_at = head.size() - 2;
  } else {
    const auto a = head.rfind(".s3.");
    const auto b = head.rfind(".s3-");
    if (a != std::string_view::npos) s3_at = a + 1;
    if (b != std::string_view::npos && (s3_at == std::string_view::npos || b + 1 > s3_at)) {
      s3_at = b + 1;
    }
  }
  if (s3_at != std::string_view::npos && s3_at > 1) {
    if (auto region = region_after_s3(head.substr(s3_at + 2))) {
      out.is_s3 = true;
      out.bucket = std::string(head.substr(0, s3_at - 1));
      out.region = std::move(*region);
      return out;
    }
  }
  // Path-style: "s3", "s3.REGION", "s3-REGION".
  if (head.starts_with("s3")) {
    if (auto region = region_after_s3(head.substr(2))) {
      out.is_s3 = true;
      out.region = std::move(*region);
    }
  }
  return out;
}

}  // namespace

core::result<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int h = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    const int l = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (h < 0 || l < 0) {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("broken percent-escape in '{}'", text));
    }
    out.push_back(static_cast<char>(h * 16 + l));
    i += 2;
  }
  return out;
}

std::string encode_key(std::string_view key) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size() + 8);
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
  return out;
}

core::result<location> parse_location(std::string_view text) {
  location out;
  if (text.empty()) return core::fail(core::error_code::bad_argument, "empty URL");
  if (starts_with_icase(text, "s3://")) {
    const auto rest = text.substr(5);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("'{}' is not s3://bucket/key", text));
    }
    out.kind = location_kind::s3;
    out.bucket = std::string(rest.substr(0, slash));
    out.key = std::string(rest.substr(slash + 1));  // s3:// keys are raw, not escaped
    return out;
  }
  if (starts_with_icase(text, "file://")) {
    auto rest = text.substr(7);
    if (starts_with_icase(rest, "localhost/")) rest.remove_prefix(9);
    if (!rest.starts_with("/")) {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("'{}' is not file:///absolute/path", text));
    }
    auto decoded = percent_decode(rest);
    if (!decoded) return tl::unexpected(decoded.error());
    out.kind = location_kind::file;
    out.path = std::move(*decoded);
    return out;
  }
  const bool https = starts_with_icase(text, "https://");
  const bool http = starts_with_icase(text, "http://");
  if (!https && !http) {
    if (text.find("://") != std::string_view::npos) {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("'{}': unsupported URL scheme", text));
    }
    out.kind = location_kind::file;
    out.path = std::string(text);
    return out;
  }
  out.kind = location_kind::http;
  out.url = std::string(text);
  const auto rest = text.substr(https ? 8 : 7);
  const auto path_at = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, path_at);
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    if (authority.empty()) {
      return core::fail(core::error_code::bad_argument, fmt::format("'{}' has no host", text));
    }
    return out;  // user-info URLs are fetched as given
  }
  auto path_and_query =
      path_at == std::string_view::npos ? std::string_view("/") : rest.substr(path_at);
  if (const auto hash = path_and_query.find('#'); hash != std::string_view::npos) {
    path_and_query = path_and_query.substr(0, hash);
  }
  const auto q = path_and_query.find('?');
  const auto path = path_and_query.substr(0, q);
  const auto query =
      q == std::string_view::npos ? std::string_view{} : path_and_query.substr(q + 1);
  if (is_presigned(query)) return out;

  auto host = lower(authority);
  if (const auto colon = host.rfind(':'); colon != std::string::npos) host.resize(colon);
  const auto s3 = classify_host(host);
  if (!s3.is_s3) return out;
  // An S3 URL with some other query (versionId...) is fetched as given: keep it simple
  // and correct rather than sign an unsorted query (NOTES.md: libcurl does not sort).
  if (!query.empty()) return out;
  auto decoded = percent_decode(path.empty() ? std::string_view("/") : path.substr(1));
  if (!decoded) return tl::unexpected(decoded.error());
  std::string bucket = s3.bucket;
  std::string key = std::move(*decoded);
  if (bucket.empty()) {  // path-style: the first path segment is the bucket
    const auto slash = key.find('/');
    if (slash == std::string::npos || slash == 0) {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("'{}' names no bucket and key", text));
    }
    bucket = key.substr(0, slash);
    key = key.substr(slash + 1);
  }
  if (key.empty()) {
    return core::fail(core::error_code::bad_argument, fmt::format("'{}' names no key", text));
  }
  out.kind = location_kind::s3;
  out.bucket = std::move(bucket);
  out.key = std::move(key);
  out.region = s3.region;
  out.url.clear();
  return out;
}

std::string s3_object_url(const endpoint_config& endpoint, std::string_view bucket,
                          std::string_view key, std::string_view region) {
  const auto encoded = encode_key(key);
  if (endpoint.endpoint_url.empty()) {
    const std::string host = region.empty() || region == "us-east-1"
                                 ? std::string("s3.amazonaws.com")
                                 : fmt::format("s3.{}.amazonaws.com", region);
    const bool dotted = bucket.find('.') != std::string_view::npos;
    const bool virtual_hosted = endpoint.style == addressing_style::virtual_hosted ||
                                (endpoint.style == addressing_style::automatic && !dotted);
    if (virtual_hosted) return fmt::format("https://{}.{}/{}", bucket, host, encoded);
    return fmt::format("https://{}/{}/{}", host, encode_key(bucket), encoded);
  }
  std::string_view base = endpoint.endpoint_url;
  while (base.ends_with('/')) base.remove_suffix(1);
  if (endpoint.style == addressing_style::virtual_hosted) {
    const auto scheme_end = base.find("://");
    const auto host_at = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    return fmt::format("{}{}.{}/{}", base.substr(0, host_at), bucket, base.substr(host_at),
                       encoded);
  }
  return fmt::format("{}/{}/{}", base, encode_key(bucket), encoded);
}

std::string redact_url(std::string_view url) {
  const auto q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, q + 1));
  auto query = url.substr(q + 1);
  std::string_view fragment;
  if (const auto hash = query.find('#'); hash != std::string_view::npos) {
    fragment = query.substr(hash);
    query = query.substr(0, hash);
  }
  std::size_t start = 0;
  bool first = true;
  while (start <= query.size()) {
    const auto amp = query.find('&', start);
    const auto part = query.substr(start, amp == std::string_view::npos ? query.npos : amp - start);
    const auto eq = part.find('=');
    const auto name = part.substr(0, eq);
    if (!first) out.push_back('&');
    first = false;
    if (eq != std::string_view::npos && is_secret_param(name)) {
      out.append(name);
      out.append("=REDACTED");
    } else {
      out.append(part);
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  out.append(fragment);
  return out;
}

std::string display_name(const location& where) {
  switch (where.kind) {
    case location_kind::s3:
      return fmt::format("s3://{}/{}", where.bucket, where.key);
    case location_kind::http:
      return redact_url(where.url);
    case location_kind::file:
      return where.path;
  }
  return {};
}

}  // namespace ctprep::fetch
