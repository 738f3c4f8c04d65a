#include "ctprep/fetch/url.hpp"

#include <gtest/gtest.h>

namespace ctprep::fetch {
namespace {

struct s3_case {
  const char* url;
  const char* bucket;
  const char* key;
  const char* region;
};

// Every S3 form of SPEC 1 (the original misparsed path-style and regional URLs).
constexpr s3_case s3_cases[] = {
    {"s3://bucket/520892552/14.dcm", "bucket", "520892552/14.dcm", ""},
    {"S3://my.bucket/a b+c.dcm", "my.bucket", "a b+c.dcm", ""},
    {"https://bucket.s3.amazonaws.com/p/1.dcm", "bucket", "p/1.dcm", ""},
    {"https://bucket.s3.us-west-2.amazonaws.com/p/1.dcm", "bucket", "p/1.dcm", "us-west-2"},
    {"https://bucket.s3-eu-west-1.amazonaws.com/p/1.dcm", "bucket", "p/1.dcm", "eu-west-1"},
    {"https://my.dotted.bucket.s3.ap-south-1.amazonaws.com/k", "my.dotted.bucket", "k",
     "ap-south-1"},
    {"https://bucket.s3.dualstack.us-east-2.amazonaws.com/k", "bucket", "k", "us-east-2"},
    {"https://s3.amazonaws.com/bucket/p/1.dcm", "bucket", "p/1.dcm", ""},
    {"https://s3.eu-central-1.amazonaws.com/bucket/p/1.dcm", "bucket", "p/1.dcm", "eu-central-1"},
    {"https://s3-us-west-1.amazonaws.com/bucket/p/1.dcm", "bucket", "p/1.dcm", "us-west-1"},
    {"https://s3-external-1.amazonaws.com/bucket/k", "bucket", "k", "us-east-1"},
    {"http://bucket.s3.amazonaws.com/p/a%20b%2Bc.dcm", "bucket", "p/a b+c.dcm", ""},
    {"https://BUCKET.S3.US-WEST-2.AMAZONAWS.COM/Key.DCM", "bucket", "Key.DCM", "us-west-2"},
    {"https://bucket.s3.amazonaws.com:443/k", "bucket", "k", ""},
};

TEST(parse_location, reads_every_s3_url_form) {
  for (const auto& c : s3_cases) {
    auto l = parse_location(c.url);
    ASSERT_TRUE(l) << c.url << ": " << l.error().message;
    EXPECT_EQ(l->kind, location_kind::s3) << c.url;
    EXPECT_EQ(l->bucket, c.bucket) << c.url;
    EXPECT_EQ(l->key, c.key) << c.url;
    EXPECT_EQ(l->region, c.region) << c.url;
  }
}

TEST(parse_location, treats_other_http_urls_as_plain_gets) {
  for (const char* url : {"http://example.org/a/b.dcm", "https://cdn.example.com/x?y=1",
                          "https://storage.googleapis.com/bucket/k.dcm",
                          "https://bucket.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
                          "X-Amz-Signature=abc",
                          "https://bucket.s3.amazonaws.com/k?versionId=3"}) {
    auto l = parse_location(url);
    ASSERT_TRUE(l) << url;
    EXPECT_EQ(l->kind, location_kind::http) << url;
    EXPECT_EQ(l->url, url);
  }
}

TEST(parse_location, reads_files_and_local_paths) {
  auto f = parse_location("file:///data/a%20b/1.dcm");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, location_kind::file);
  EXPECT_EQ(f->path, "/data/a b/1.dcm");
  auto lh = parse_location("file://localhost/x.dcm");
  ASSERT_TRUE(lh);
  EXPECT_EQ(lh->path, "/x.dcm");
  auto rel = parse_location("dicom/1/2.dcm");
  ASSERT_TRUE(rel);
  EXPECT_EQ(rel->kind, location_kind::file);
  EXPECT_EQ(rel->path, "dicom/1/2.dcm");
}

TEST(parse_location, rejects_unusable_urls) {
  for (const char* url :
       {"", "s3://bucket", "s3://bucket/", "s3:///key", "ftp://h/x", "file://relative/x",
        "https://s3.amazonaws.com/bucket", "https://bucket.s3.amazonaws.com/", "https:///x",
        "https://bucket.s3.amazonaws.com/%zz"}) {
    auto l = parse_location(url);
    EXPECT_FALSE(l) << url;
    if (!l) {
      EXPECT_EQ(l.error().code, core::error_code::bad_argument) << url;
    }
  }
}

TEST(s3_object_url, addresses_aws_and_custom_endpoints) {
  endpoint_config aws;
  EXPECT_EQ(s3_object_url(aws, "b", "p/a b+c.dcm", "us-west-2"),
            "https://b.s3.us-west-2.amazonaws.com/p/a%20b%2Bc.dcm");
  EXPECT_EQ(s3_object_url(aws, "b", "k", "us-east-1"), "https://b.s3.amazonaws.com/k");
  // Dotted buckets go path-style: a virtual-hosted name would not match the certificate.
  EXPECT_EQ(s3_object_url(aws, "my.b", "k", "eu-west-1"),
            "https://s3.eu-west-1.amazonaws.com/my.b/k");
  aws.style = addressing_style::path;
  EXPECT_EQ(s3_object_url(aws, "b", "k", "eu-west-1"), "https://s3.eu-west-1.amazonaws.com/b/k");

  endpoint_config custom{"http://127.0.0.1:9000/", addressing_style::automatic};
  EXPECT_EQ(s3_object_url(custom, "b", "x/é~_.-", "us-east-1"),
            "http://127.0.0.1:9000/b/x/%C3%A9~_.-");
  custom.style = addressing_style::virtual_hosted;
  custom.endpoint_url = "http://localhost:9000";
  EXPECT_EQ(s3_object_url(custom, "b", "k", "us-east-1"), "http://b.localhost:9000/k");
}

TEST(redact_url, hides_presigned_secrets_only) {
  EXPECT_EQ(redact_url("https://h/k?X-Amz-Credential=AKID%2F1&X-Amz-Date=1&X-Amz-Signature=ff&"
                       "X-Amz-Security-Token=tok#f"),
            "https://h/k?X-Amz-Credential=REDACTED&X-Amz-Date=1&X-Amz-Signature=REDACTED&"
            "X-Amz-Security-Token=REDACTED#f");
  EXPECT_EQ(redact_url("https://h/k?AWSAccessKeyId=A&Signature=s&Expires=3"),
            "https://h/k?AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=3");
  EXPECT_EQ(redact_url("https://h/k"), "https://h/k");
}

TEST(percent_decode, decodes_and_rejects_broken_escapes) {
  EXPECT_EQ(*percent_decode("a%20b%2Bc%2f"), "a b+c/");
  EXPECT_FALSE(percent_decode("a%2"));
  EXPECT_FALSE(percent_decode("a%g0"));
  EXPECT_FALSE(percent_decode("%"));
}

}  // namespace
}  // namespace ctprep::fetch
