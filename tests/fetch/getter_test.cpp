// The parallel getter against a real S3 (s3rver) behind our SigV4-verifying, fault-
// injecting proxy (tests/servers/s3_test_server.js).
#include "ctprep/fetch/getter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>

#include "support/s3_server.hpp"
#include "support/testing.hpp"

namespace ctprep::fetch {
namespace {
using testing::s3_server;

std::string object_bytes(int i) {
  std::string s(20000 + i * 1000, '\0');
  for (std::size_t k = 0; k < s.size(); ++k)
    s[k] = static_cast<char>((k * 31 + static_cast<std::size_t>(i) * 7) & 0xff);
  return s;
}

// Larger than what the getter lets pile up for the MD5 before hashing (4 MB).
std::string big_bytes() {
  std::string s(6 * 1024 * 1024 + 13, '\0');
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x & 0xff);
  }
  return s;
}

// One server for the suite: starting s3rver costs about a second.
class getter_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::find_node().empty() ||
        !std::filesystem::exists(testing::servers_dir() / "node_modules" / "s3rver")) {
      return;
    }
    objects_ = std::make_unique<testing::temp_dir>();
    for (int i = 0; i < 12; ++i) {
      testing::write_text(objects_->path() / "bkt" / "p" / (std::to_string(i) + ".dcm"),
                          object_bytes(i));
    }
    testing::write_text(objects_->path() / "bkt" / "big.dcm", big_bytes());
    testing::write_text(objects_->path() / "bkt" / "odd key" / "a b+c=d&é.dcm", "odd");
    testing::write_text(objects_->path() / "pub" / "x.dcm", "public bytes");
    testing::s3_server_options o;
    o.objects = objects_->path();
    o.public_buckets = {"pub"};
    server_ = std::make_unique<s3_server>(o);
  }
  static void TearDownTestSuite() {
    server_.reset();
    objects_.reset();
  }
  void SetUp() override {
    CTPREP_REQUIRE_S3_SERVER();
    ASSERT_TRUE(server_);
    server_->set_faults("{}");
    server_->clear_requests();
  }

  static transfer_options options() {
    transfer_options o;
    o.endpoint.endpoint_url = server_->endpoint();
    o.creds = credentials{server_->options().access_key, server_->options().secret_key, "", "test"};
    o.retry_base = std::chrono::milliseconds(5);
    o.retry_cap = std::chrono::milliseconds(20);
    o.retries = 3;
    return o;
  }

  static std::map<std::size_t, get_result> fetch(const std::vector<std::string>& urls,
                                                 const transfer_options& o) {
    std::vector<location> items;
    for (const auto& u : urls) items.push_back(*parse_location(u));
    std::map<std::size_t, get_result> out;
    get_callbacks cb;
    cb.on_done = [&](std::size_t i, get_result&& r) {
      EXPECT_EQ(out.count(i), 0u) << "reported twice: " << i;
      out[i] = std::move(r);
      return true;
    };
    (void)get_all(items, o, cb);
    return out;
  }

  static inline std::unique_ptr<testing::temp_dir> objects_;
  static inline std::unique_ptr<s3_server> server_;
};

TEST_F(getter_test, fetches_every_object_once_with_the_exact_bytes) {
  std::vector<std::string> urls;
  for (int i = 0; i < 12; ++i) urls.push_back("s3://bkt/p/" + std::to_string(i) + ".dcm");
  auto o = options();
  o.max_in_flight = 4;
  auto r = fetch(urls, o);
  ASSERT_EQ(r.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    const auto& g = r[static_cast<std::size_t>(i)];
    ASSERT_TRUE(g.ok) << i << ": " << g.reason;
    EXPECT_EQ(g.body, object_bytes(i));
    EXPECT_EQ(g.attempts, 1);
    EXPECT_EQ(g.http_status, 200);
    EXPECT_EQ(server_->count_requests({"\"key\":\"p/" + std::to_string(i) + ".dcm\""}), 1);
  }
  EXPECT_EQ(server_->requests().size(), 12u);
}

TEST_F(getter_test, signs_odd_keys_and_every_url_form_with_the_url_region) {
  auto o = options();
  auto r = fetch({"s3://bkt/odd key/a b+c=d&é.dcm",
                  "https://bkt.s3.eu-west-3.amazonaws.com/odd%20key/a%20b%2Bc%3Dd%26%C3%A9.dcm",
                  "https://s3-ap-south-1.amazonaws.com/bkt/p/1.dcm"},
                 o);
  ASSERT_EQ(r.size(), 3u);
  for (auto& [i, g] : r) ASSERT_TRUE(g.ok) << i << ": " << g.reason;
  EXPECT_EQ(r[0].body, "odd");
  EXPECT_EQ(r[1].body, "odd");
  EXPECT_EQ(server_->count_requests({"\"region\":\"us-east-1\"", "odd key"}), 1);
  EXPECT_EQ(server_->count_requests({"\"region\":\"eu-west-3\"", "odd key"}), 1);
  EXPECT_EQ(server_->count_requests({"\"region\":\"ap-south-1\"", "p/1.dcm"}), 1);
}

TEST_F(getter_test, uses_virtual_hosted_addressing_when_forced) {
  auto o = options();
  o.endpoint.endpoint_url = "http://localhost:" + std::to_string(server_->port());
  o.endpoint.style = addressing_style::virtual_hosted;
  auto r = fetch({"s3://bkt/p/2.dcm"}, o);
  ASSERT_TRUE(r[0].ok) << r[0].reason;
  EXPECT_EQ(r[0].body, object_bytes(2));
  EXPECT_EQ(server_->count_requests({"\"vhost\":true", "p/2.dcm", "\"status\":200"}), 1);
}

TEST_F(getter_test, retries_transient_faults_and_then_succeeds) {
  server_->set_faults(R"({"bkt/p/0.dcm": ["500", "503"], "bkt/p/1.dcm": ["429"],
                          "bkt/p/2.dcm": ["reset"], "bkt/p/3.dcm": ["truncate"],
                          "bkt/p/4.dcm": ["corrupt"], "bkt/p/5.dcm": ["stall"]})",
                      /*stall_ms=*/30000);
  auto o = options();
  // A stall: under 50 kB/s for a second (libcurl averages speed over a few seconds).
  o.low_speed_limit = 50000;
  o.low_speed_time = std::chrono::milliseconds(1000);
  std::vector<std::string> urls;
  for (int i = 0; i < 7; ++i) urls.push_back("s3://bkt/p/" + std::to_string(i) + ".dcm");
  auto r = fetch(urls, o);
  ASSERT_EQ(r.size(), 7u);
  const int expected_attempts[] = {3, 2, 2, 2, 2, 2, 1};
  for (int i = 0; i < 7; ++i) {
    const auto& g = r[static_cast<std::size_t>(i)];
    ASSERT_TRUE(g.ok) << i << ": " << g.reason;
    EXPECT_EQ(g.body, object_bytes(i)) << i;
    EXPECT_EQ(g.attempts, expected_attempts[i]) << i;
    // Fetched once successfully: one 200 without a fault per object.
    EXPECT_EQ(server_->count_requests({"\"key\":\"p/" + std::to_string(i) + ".dcm\"",
                                       "\"fault\":null", "\"status\":200"}),
              1)
        << i;
  }
}

TEST_F(getter_test, abandons_a_stalled_transfer_with_a_timeout) {
  server_->set_faults(R"({"bkt/p/5.dcm": ["stall"]})", /*stall_ms=*/30000);
  auto o = options();
  o.low_speed_limit = 50000;
  o.low_speed_time = std::chrono::milliseconds(1000);
  o.retries = 0;
  auto r = fetch({"s3://bkt/p/5.dcm"}, o);
  EXPECT_FALSE(r[0].ok);
  EXPECT_EQ(r[0].kind, failure_kind::network);
  EXPECT_TRUE(r[0].reason.starts_with("timeout: ")) << r[0].reason;
  EXPECT_LT(r[0].ms, 20000);
}

TEST_F(getter_test, streams_checked_bodies_to_files_and_leaves_nothing_on_failure) {
  server_->set_faults(R"({"bkt/p/1.dcm": ["corrupt"], "bkt/p/2.dcm": ["truncate"]})");
  testing::temp_dir out;
  auto o = options();
  o.stream_to = [&](std::size_t i) { return out / "sub" / (std::to_string(i) + ".dcm"); };
  auto r = fetch({"s3://bkt/p/1.dcm", "s3://bkt/p/2.dcm", "s3://bkt/p/missing.dcm"}, o);
  ASSERT_TRUE(r[0].ok) << r[0].reason;
  ASSERT_TRUE(r[1].ok) << r[1].reason;
  EXPECT_TRUE(r[0].body.empty());
  EXPECT_EQ(r[0].bytes, object_bytes(1).size());
  EXPECT_EQ(r[0].attempts, 2);
  EXPECT_EQ(testing::read_text(out / "sub" / "0.dcm"), object_bytes(1));
  EXPECT_EQ(testing::read_text(out / "sub" / "1.dcm"), object_bytes(2));
  EXPECT_EQ(r[2].reason, "404 NoSuchKey");
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(out / "sub")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"0.dcm", "1.dcm"}));  // no temp files, no 2.dcm
}

// The bodies in flight are MD5-hashed together (fetch/md5.hpp), in memory and streamed:
// a corrupt one among them, including one larger than the MD5 backlog, is caught and
// fetched again; the others pass at the first attempt with their exact bytes.
TEST_F(getter_test, checks_the_md5_of_many_bodies_hashed_together) {
  for (const bool streamed : {false, true}) {
    SCOPED_TRACE(streamed ? "streamed" : "in memory");
    server_->set_faults(R"({"bkt/p/3.dcm": ["corrupt"], "bkt/p/8.dcm": ["corrupt"],
                            "bkt/big.dcm": ["corrupt"]})");
    testing::temp_dir out;
    auto o = options();
    o.max_in_flight = 16;
    if (streamed) o.stream_to = [&](std::size_t i) { return out / (std::to_string(i) + ".dcm"); };
    std::vector<std::string> urls;
    for (int i = 0; i < 12; ++i) urls.push_back("s3://bkt/p/" + std::to_string(i) + ".dcm");
    urls.push_back("s3://bkt/big.dcm");
    auto r = fetch(urls, o);
    ASSERT_EQ(r.size(), 13u);
    for (std::size_t i = 0; i < 13; ++i) {
      const auto& g = r[i];
      ASSERT_TRUE(g.ok) << i << ": " << g.reason;
      const auto expected = i == 12 ? big_bytes() : object_bytes(static_cast<int>(i));
      EXPECT_EQ(streamed ? testing::read_text(out / (std::to_string(i) + ".dcm")) : g.body,
                expected)
          << i;
      EXPECT_EQ(g.bytes, expected.size()) << i;
      EXPECT_EQ(g.attempts, i == 3 || i == 8 || i == 12 ? 2 : 1) << i;
    }
  }
}

TEST_F(getter_test, records_403_and_404_without_retrying) {
  server_->set_faults(R"({"bkt/p/0.dcm": ["403"]})");
  auto r = fetch({"s3://bkt/p/0.dcm", "s3://bkt/p/missing.dcm", "s3://nobucket/k"}, options());
  ASSERT_EQ(r.size(), 3u);
  EXPECT_FALSE(r[0].ok);
  EXPECT_EQ(r[0].kind, failure_kind::auth);
  EXPECT_EQ(r[0].reason, "403 AccessDenied");
  EXPECT_FALSE(r[0].fatal_auth);
  EXPECT_EQ(r[0].attempts, 1);
  EXPECT_EQ(r[1].kind, failure_kind::not_found);
  EXPECT_EQ(r[1].reason, "404 NoSuchKey");
  EXPECT_EQ(r[1].attempts, 1);
  EXPECT_EQ(r[2].kind, failure_kind::not_found);
  EXPECT_EQ(r[2].reason, "404 NoSuchBucket");
}

TEST_F(getter_test, gives_up_after_the_retries) {
  server_->set_faults(R"({"bkt/p/0.dcm": ["503", "503", "503", "503", "503"]})");
  auto o = options();
  o.retries = 2;
  auto r = fetch({"s3://bkt/p/0.dcm"}, o);
  EXPECT_FALSE(r[0].ok);
  EXPECT_EQ(r[0].kind, failure_kind::network);
  EXPECT_EQ(r[0].attempts, 3);
  EXPECT_EQ(r[0].reason, "503 SlowDown (after 3 attempts)");
}

TEST_F(getter_test, a_wrong_secret_is_a_fatal_signature_mismatch) {
  auto o = options();
  o.creds->secret_key = "wrong-secret";
  auto r = fetch({"s3://bkt/p/0.dcm"}, o);
  EXPECT_FALSE(r[0].ok);
  EXPECT_EQ(r[0].kind, failure_kind::auth);
  EXPECT_EQ(r[0].reason, "403 SignatureDoesNotMatch");
  EXPECT_TRUE(r[0].fatal_auth);
  EXPECT_EQ(r[0].reason.find("wrong-secret"), std::string::npos);
  auto unknown = options();
  unknown.creds->access_key = "AKIDUNKNOWN";
  r = fetch({"s3://bkt/p/0.dcm"}, unknown);
  EXPECT_EQ(r[0].reason, "403 InvalidAccessKeyId");
  EXPECT_TRUE(r[0].fatal_auth);
}

TEST_F(getter_test, unsigned_requests_reach_public_buckets_only) {
  auto o = options();
  o.creds.reset();
  auto r = fetch({"s3://pub/x.dcm", "s3://bkt/p/0.dcm",
                  server_->endpoint() + "/pub/x.dcm"},  // a plain http URL
                 o);
  ASSERT_TRUE(r[0].ok) << r[0].reason;
  EXPECT_EQ(r[0].body, "public bytes");
  EXPECT_EQ(r[1].reason, "403 AccessDenied");
  ASSERT_TRUE(r[2].ok) << r[2].reason;
  EXPECT_EQ(r[2].body, "public bytes");
}

TEST_F(getter_test, stops_starting_transfers_when_told) {
  std::vector<location> items;
  for (int i = 0; i < 12; ++i)
    items.push_back(*parse_location("s3://bkt/p/" + std::to_string(i) + ".dcm"));
  auto o = options();
  o.max_in_flight = 1;
  int done = 0;
  get_callbacks cb;
  cb.on_done = [&](std::size_t, get_result&&) { return ++done < 3; };
  EXPECT_EQ(get_all(items, o, cb), 3u);
  EXPECT_EQ(server_->requests().size(), 3u);
}

TEST_F(getter_test, reads_local_files_and_reports_missing_ones) {
  testing::temp_dir dir;
  testing::write_text(dir / "a.dcm", "local");
  auto r = fetch(
      {(dir / "a.dcm").string(), "file://" + (dir / "a.dcm").string(), (dir / "none.dcm").string()},
      options());
  EXPECT_EQ(r[0].body, "local");
  EXPECT_EQ(r[1].body, "local");
  EXPECT_EQ(r[2].kind, failure_kind::not_found);
}

TEST(getter, reports_a_refused_connection_as_a_network_failure) {
  transfer_options o;
  o.endpoint.endpoint_url = "http://127.0.0.1:9";  // discard port: nothing listens
  o.creds = credentials{"AK", "SK", "", "test"};
  o.retries = 1;
  o.retry_base = std::chrono::milliseconds(1);
  std::vector<location> items{*parse_location("s3://b/k")};
  get_result got;
  get_callbacks cb;
  cb.on_done = [&](std::size_t, get_result&& r) {
    got = std::move(r);
    return true;
  };
  ASSERT_EQ(get_all(items, o, cb), 1u);
  EXPECT_FALSE(got.ok);
  EXPECT_EQ(got.kind, failure_kind::network);
  EXPECT_EQ(got.attempts, 2);
  EXPECT_TRUE(got.reason.starts_with("connection failed")) << got.reason;
}

TEST(md5_hex, matches_known_digests) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
}

}  // namespace
}  // namespace ctprep::fetch

namespace ctprep::fetch {
namespace {

TEST(getter_session_token, sends_and_signs_the_token) {
  CTPREP_REQUIRE_S3_SERVER();
  testing::temp_dir objects;
  testing::write_text(objects / "tok" / "k.dcm", "token-protected");
  testing::s3_server_options so;
  so.objects = objects.path();
  so.session_token = "FwoGZXIvYXdzEJr//token+/=";
  testing::s3_server server(so);
  transfer_options o;
  o.endpoint.endpoint_url = server.endpoint();
  o.creds = credentials{so.access_key, so.secret_key, so.session_token, "test"};
  o.retries = 0;
  std::vector<location> items{*parse_location("s3://tok/k.dcm")};
  get_result got;
  get_callbacks cb;
  cb.on_done = [&](std::size_t, get_result&& r) {
    got = std::move(r);
    return true;
  };
  ASSERT_EQ(get_all(items, o, cb), 1u);
  ASSERT_TRUE(got.ok) << got.reason;
  EXPECT_EQ(got.body, "token-protected");
  o.creds->session_token.clear();  // without it: refused, and fatal
  ASSERT_EQ(get_all(items, o, cb), 1u);
  EXPECT_EQ(got.reason, "403 InvalidToken");
  EXPECT_TRUE(got.fatal_auth);
}

}  // namespace
}  // namespace ctprep::fetch
