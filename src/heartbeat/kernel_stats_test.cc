#include "heartbeat/kernel_stats.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace lifeline::heartbeat {
namespace {

// Shaped like a 6.x kernel's /proc/net/snmp (Ip, Icmp, Tcp elided).
const char kSnmp[] =
    "Ip: Forwarding DefaultTTL InReceives\n"
    "Ip: 1 64 123456\n"
    "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors "
    "SndbufErrors InCsumErrors IgnoredMulti MemErrors\n"
    "Udp: 26 0 7 27 4242 0 0 0 0\n"
    "UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors "
    "SndbufErrors InCsumErrors IgnoredMulti MemErrors\n"
    "UdpLite: 0 0 0 0 99 0 0 0 0\n";

// Shaped like /proc/net/snmp6 (name, tabs or spaces, value).
const char kSnmp6[] =
    "Ip6InReceives                   \t5\n"
    "Udp6InDatagrams                 \t3\n"
    "Udp6RcvbufErrors                \t17\n"
    "Udp6SndbufErrors                \t0\n"
    "UdpLite6RcvbufErrors            \t99\n";

TEST(KernelStats, ReadsRcvbufErrorsFromTheUdpSectionNotUdpLite) {
  auto v = ParseSnmpUdpRcvbufErrors(kSnmp);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 4242u);
}

TEST(KernelStats, ReadsUdp6RcvbufErrorsNotUdpLite6) {
  auto v = ParseSnmp6UdpRcvbufErrors(kSnmp6);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 17u);
}

TEST(KernelStats, FindsTheColumnByNameWhereverTheKernelPutsIt) {
  auto v = ParseSnmpUdpRcvbufErrors(
      "Udp: RcvbufErrors InDatagrams\n"
      "Udp: 18446744073709551615 1\n");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 18446744073709551615u);
}

// Each malformed text is an error value naming the source; none throws.
TEST(KernelStats, MalformedTextIsAClearErrorNotACrash) {
  struct Case {
    const char* text;
    StatusCode code;
    const char* says;
  } cases[] = {
      {"", StatusCode::kNotFound, "no Udp section"},
      {"UdpLite: RcvbufErrors\nUdpLite: 1\n", StatusCode::kNotFound,
       "no Udp section"},
      {"Udp: InDatagrams RcvbufErrors\n", StatusCode::kInvalidArgument,
       "no values row"},
      {"Udp: InDatagrams RcvbufErrors\nUdp: 1\n", StatusCode::kInvalidArgument,
       "1 fields, the header names 2"},
      {"Udp: InDatagrams RcvbufErrors\nUdp: 1 lots\n",
       StatusCode::kInvalidArgument, "'lots' is not a counter"},
      {"Udp: InDatagrams RcvbufErrors\nUdp: 1 -3\n",
       StatusCode::kInvalidArgument, "'-3' is not a counter"},
      {"Udp: InDatagrams RcvbufErrors\nUdp: 1 12abc\n",
       StatusCode::kInvalidArgument, "'12abc' is not a counter"},
      {"Udp: InDatagrams RcvbufErrors\nUdp: 1 18446744073709551616\n",
       StatusCode::kInvalidArgument, "is not a counter"},
      {"Udp: InDatagrams NoPorts\nUdp: 1 2\n", StatusCode::kNotFound,
       "no RcvbufErrors column"},
      {"\x01\xff garbage\n\nUdp\n", StatusCode::kNotFound, "no Udp section"},
  };
  for (const Case& c : cases) {
    auto v = ParseSnmpUdpRcvbufErrors(c.text, "/proc/net/snmp");
    ASSERT_FALSE(v.ok()) << c.text;
    EXPECT_EQ(v.status().code(), c.code) << c.text;
    EXPECT_NE(v.status().message().find("/proc/net/snmp"), std::string::npos)
        << v.status().message();
    EXPECT_NE(v.status().message().find(c.says), std::string::npos)
        << v.status().message();
  }
  for (const char* text : {"Udp6RcvbufErrors\n", "Udp6RcvbufErrors x\n",
                           "Udp6RcvbufErrors 1 2\n"}) {
    auto v = ParseSnmp6UdpRcvbufErrors(text, "/proc/net/snmp6");
    ASSERT_FALSE(v.ok()) << text;
    EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(v.status().message().find("/proc/net/snmp6"), std::string::npos);
  }
  EXPECT_EQ(ParseSnmp6UdpRcvbufErrors("Udp6InDatagrams 3\n").status().code(),
            StatusCode::kNotFound);
}

class KernelStatsFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/kernel_stats_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override {
    std::remove((dir_ + "/snmp").c_str());
    std::remove((dir_ + "/snmp6").c_str());
    rmdir(dir_.c_str());
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  std::string dir_;
};

TEST_F(KernelStatsFiles, SumsIpv4AndIpv6) {
  Write("snmp", kSnmp);
  Write("snmp6", kSnmp6);
  auto v = ReadUdpRcvbufErrors(dir_);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 4242u + 17u);
}

TEST_F(KernelStatsFiles, WithoutIpv6CountsIpv4Only) {
  Write("snmp", kSnmp);
  auto v = ReadUdpRcvbufErrors(dir_);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 4242u);
}

TEST_F(KernelStatsFiles, NeitherFileIsNotFound) {
  EXPECT_EQ(ReadUdpRcvbufErrors(dir_).status().code(), StatusCode::kNotFound);
}

TEST_F(KernelStatsFiles, AGarbledFileIsAnErrorNamingIt) {
  Write("snmp", kSnmp);
  Write("snmp6", "Udp6RcvbufErrors many\n");
  auto v = ReadUdpRcvbufErrors(dir_);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find(dir_ + "/snmp6"), std::string::npos)
      << v.status().message();
}

TEST(KernelStats, ReadsThisMachinesCounters) {
  // /proc/net/snmp exists on every Linux; the value is whatever it is.
  auto v = ReadUdpRcvbufErrors();
  EXPECT_TRUE(v.ok()) << v.status().ToString();
}

}  // namespace
}  // namespace lifeline::heartbeat
