// Where an object lives, from the URL forms of SPEC 1 (feedback CSV image_url):
//   s3://bucket/key
//   https://bucket.s3.amazonaws.com/key, https://bucket.s3.REGION.amazonaws.com/key,
//   https://bucket.s3-REGION.amazonaws.com/key                       (virtual-hosted)
//   https://s3.amazonaws.com/bucket/key, https://s3.REGION.amazonaws.com/bucket/key,
//   https://s3-REGION.amazonaws.com/bucket/key                       (path-style)
//   any other http(s):// URL (a plain GET), file:///abs/path, and local paths.
// The original misparsed path-style and regional URLs and rejected http:// (SPEC 3).
#pragma once

#include <string>
#include <string_view>

#include "ctprep/core/error.hpp"

namespace ctprep::fetch {

enum class location_kind { s3, http, file };

struct location {
  location_kind kind = location_kind::file;
  std::string bucket;  // s3
  std::string key;     // s3: the decoded object key (no leading '/')
  std::string region;  // s3: the region the URL names, empty when it names none
  std::string url;     // http: the URL as given
  std::string path;    // file: a local path (file:// URLs decoded)
};

// Parses one URL or path. A presigned S3 URL (its query carries X-Amz-Signature or
// Signature) is an http location: it is fetched as given, never re-signed.
[[nodiscard]] core::result<location> parse_location(std::string_view text);

enum class addressing_style { automatic, path, virtual_hosted };

struct endpoint_config {
  std::string endpoint_url;  // "" for AWS; else e.g. "http://127.0.0.1:9000" (no trailing '/')
  addressing_style style = addressing_style::automatic;
};

// The https URL of an S3 object. AWS without a forced style: virtual-hosted
// (https://bucket.s3.REGION.amazonaws.com/key), path-style for bucket names with dots
// (a virtual-hosted name would break TLS). A custom endpoint: path-style unless
// virtual-hosted is forced (then the bucket becomes the first host label).
// The key is percent-encoded per RFC 3986 (everything but A-Z a-z 0-9 - . _ ~ and '/'),
// which is also the canonical URI SigV4 signs.
[[nodiscard]] std::string s3_object_url(const endpoint_config& endpoint, std::string_view bucket,
                                        std::string_view key, std::string_view region);

// RFC 3986 percent-encoding of an S3 key ('/' kept).
[[nodiscard]] std::string encode_key(std::string_view key);

// "%41b" -> "Ab"; nullopt-like failure as bad_argument when an escape is broken.
[[nodiscard]] core::result<std::string> percent_decode(std::string_view text);

// The URL with the values of query parameters that carry secrets (X-Amz-Signature,
// X-Amz-Credential, X-Amz-Security-Token, Signature, AWSAccessKeyId...) replaced by
// "REDACTED": presigned URLs are logged and printed this way.
[[nodiscard]] std::string redact_url(std::string_view url);

// A short, readable name of a location for messages ("s3://bucket/key", the URL, the path).
[[nodiscard]] std::string display_name(const location& where);

}  // namespace ctprep::fetch
