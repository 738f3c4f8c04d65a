#include "ctprep/fetch/md5.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ctprep/core/rng.hpp"
#include "ctprep/fetch/getter.hpp"

namespace {
using namespace ctprep;

std::string random_bytes(core::rng& r, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(r.next() & 0xff);
  return s;
}

// Streams hashed the way the getter does: chunks of random sizes arrive per stream, whole
// blocks are absorbed in batches across streams, the rest is kept for later.
std::vector<std::string> batched_md5(const std::vector<std::string>& bodies, core::rng& r) {
  const std::size_t n = bodies.size();
  std::vector<fetch::md5_state> states(n);
  std::vector<std::size_t> received(n, 0), absorbed(n, 0);
  for (;;) {
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (received[i] < bodies[i].size()) {
        received[i] = std::min(bodies[i].size(), received[i] + r.next() % 20000);
        any = true;
      }
    }
    std::vector<fetch::md5_job> jobs;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t blocks = (received[i] - absorbed[i]) / 64;
      if (blocks == 0 || r.next() % 4 == 0) continue;  // sometimes left for a later batch
      jobs.push_back({&states[i],
                      reinterpret_cast<const unsigned char*>(bodies[i].data()) + absorbed[i],
                      blocks});
      absorbed[i] += 64 * blocks;
    }
    fetch::md5_absorb(jobs);
    if (!any) break;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(
        fetch::md5_finish_hex(states[i], std::string_view(bodies[i]).substr(absorbed[i])));
  }
  return out;
}

class md5_kernels : public ::testing::TestWithParam<fetch::md5_kernel> {
 protected:
  void SetUp() override { fetch::md5_set_kernel(GetParam()); }
  void TearDown() override { fetch::md5_set_kernel(fetch::md5_kernel::automatic); }
};

TEST_P(md5_kernels, gives_the_rfc_1321_test_vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"}};
  for (const auto& [text, hex] : vectors) {
    EXPECT_EQ(fetch::md5_finish_hex({}, text), hex) << text;
  }
}

TEST_P(md5_kernels, matches_openssl_for_every_length_around_the_block_edges) {
  core::rng r(7);
  std::vector<std::string> bodies;
  for (std::size_t n = 0; n <= 300; ++n) bodies.push_back(random_bytes(r, n));
  const auto got = batched_md5(bodies, r);
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    EXPECT_EQ(got[i], fetch::md5_hex(bodies[i])) << "length " << bodies[i].size();
  }
}

TEST_P(md5_kernels, matches_openssl_for_many_streams_of_unequal_size_hashed_in_batches) {
  core::rng r(11);
  for (int trial = 0; trial < 6; ++trial) {
    std::vector<std::string> bodies;
    const std::size_t streams = 1 + r.next() % 40;  // fewer and more than 16 lanes
    for (std::size_t i = 0; i < streams; ++i) bodies.push_back(random_bytes(r, r.next() % 200000));
    const auto got = batched_md5(bodies, r);
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      EXPECT_EQ(got[i], fetch::md5_hex(bodies[i])) << "trial " << trial << " stream " << i;
    }
  }
}

TEST_P(md5_kernels, matches_openssl_when_every_stream_is_absorbed_in_one_batch) {
  core::rng r(5);
  std::vector<std::string> bodies;
  for (int i = 0; i < 37; ++i) bodies.push_back(random_bytes(r, 64 * (1 + r.next() % 300)));
  std::vector<fetch::md5_state> states(bodies.size());
  std::vector<fetch::md5_job> jobs;
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    jobs.push_back({&states[i], reinterpret_cast<const unsigned char*>(bodies[i].data()),
                    bodies[i].size() / 64});
  }
  fetch::md5_absorb(jobs);
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    EXPECT_EQ(fetch::md5_finish_hex(states[i], {}), fetch::md5_hex(bodies[i])) << i;
  }
}

std::string kernel_name(const ::testing::TestParamInfo<fetch::md5_kernel>& param) {
  return param.param == fetch::md5_kernel::scalar ? "scalar" : "vector";
}

INSTANTIATE_TEST_SUITE_P(md5, md5_kernels,
                         ::testing::Values(fetch::md5_kernel::automatic, fetch::md5_kernel::scalar),
                         kernel_name);

}  // namespace
