// Which webhook targets are refused (webhooks/address_policy.h): every non-public IPv4 range, and
// IPv6 including the forms that carry an IPv4 address.
#include <gtest/gtest.h>

#include "webhooks/address_policy.h"
#include "webhooks/curl_transport.h"

namespace isvc::webhooks {
namespace {

TEST(AddressPolicy, RefusesEveryNonPublicIpv4Range) {
  for (auto [ip, why] : std::vector<std::pair<const char*, const char*>>{
           {"0.0.0.0", "unspecified"},
           {"0.1.2.3", "unspecified"},
           {"127.0.0.1", "loopback"},
           {"127.255.255.254", "loopback"},
           {"10.0.0.1", "private"},
           {"172.16.0.1", "private"},
           {"172.31.255.255", "private"},
           {"192.168.1.1", "private"},
           {"100.64.0.1", "shared (carrier-grade NAT)"},
           {"169.254.169.254", "link-local"},  // the cloud metadata address
           {"192.0.0.8", "reserved"},
           {"192.0.2.1", "reserved"},
           {"198.18.0.1", "reserved"},
           {"198.51.100.7", "reserved"},
           {"203.0.113.9", "reserved"},
           {"224.0.0.1", "multicast"},
           {"239.255.255.250", "multicast"},
           {"240.0.0.1", "reserved"},
           {"255.255.255.255", "reserved"}})
    EXPECT_EQ(non_public_reason(std::string_view(ip)), std::optional<std::string>(why)) << ip;
}

TEST(AddressPolicy, AcceptsPublicIpv4NextToTheRanges) {
  for (const char* ip :
       {"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "172.15.255.255", "172.32.0.0",
        "192.167.255.255", "192.169.0.0", "100.63.255.255", "100.128.0.0", "169.253.255.255",
        "198.17.255.255", "198.20.0.0", "223.255.255.255"})
    EXPECT_EQ(non_public_reason(std::string_view(ip)), std::nullopt) << ip;
}

TEST(AddressPolicy, RefusesNonPublicIpv6AndIpv4InsideIpv6) {
  for (auto [ip, why] : std::vector<std::pair<const char*, const char*>>{
           {"::", "unspecified"},
           {"::1", "loopback"},
           {"0:0:0:0:0:0:0:1", "loopback"},
           {"::ffff:127.0.0.1", "loopback"},  // v4-mapped
           {"::ffff:7f00:1", "loopback"},     // the same, in hex
           {"::ffff:10.1.2.3", "private"},
           {"::ffff:169.254.169.254", "link-local"},
           {"::127.0.0.1", "IPv4-compatible"},
           {"::8.8.8.8", "IPv4-compatible"},
           {"64:ff9b::7f00:1", "NAT64 of loopback"},
           {"64:ff9b::a00:1", "NAT64 of private"},
           {"2002:7f00:1::", "6to4 of loopback"},
           {"2002:c0a8:101::1", "6to4 of private"},
           {"fc00::1", "unique-local"},
           {"fd12:3456:789a::1", "unique-local"},
           {"fe80::1", "link-local"},
           {"febf:ffff::1", "link-local"},
           {"fec0::1", "site-local"},
           {"ff02::1", "multicast"},
           {"ff05::1:3", "multicast"},
           {"2001:db8::1", "documentation"},
           {"100::1", "discard"}})
    EXPECT_EQ(non_public_reason(std::string_view(ip)), std::optional<std::string>(why)) << ip;
}

TEST(AddressPolicy, AcceptsPublicIpv6) {
  for (const char* ip : {"2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8",
                         "64:ff9b::808:808", "2002:808:808::1", "fbff::1", "fe7f::1"})
    EXPECT_EQ(non_public_reason(std::string_view(ip)), std::nullopt) << ip;
}

TEST(AddressPolicy, TellsLiteralsFromNames) {
  EXPECT_TRUE(is_ip_literal("127.0.0.1"));
  EXPECT_TRUE(is_ip_literal("::1"));
  EXPECT_FALSE(is_ip_literal("localhost"));
  EXPECT_FALSE(is_ip_literal("127.1"));  // inet_pton's strict form only: curl would not resolve it
  EXPECT_FALSE(is_ip_literal("0x7f.0.0.1"));
}

TEST(CurlTransport, RefusesPrivateTargetsBeforeConnecting) {
  CurlTransport t(TransportSettings{});
  for (const char* url :
       {"http://127.0.0.1:1/hook", "http://[::1]:1/", "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data", "http://localhost:1/"}) {
    auto r = t.post(url, {}, "{}");
    EXPECT_EQ(r.kind, domain::TransportResult::Refused) << url << ": " << r.detail;
  }
  EXPECT_EQ(t.post("ftp://example.com/", {}, "{}").kind, domain::TransportResult::Refused);
}

TEST(CurlTransport, DisplayUrlDropsUserInfoAndQuery) {
  EXPECT_EQ(display_url("https://u:p@hooks.example/in?token=secret"),
            "https://hooks.example:443/in");
  EXPECT_EQ(display_url("http://127.0.0.1:8080/hook"), "http://127.0.0.1:8080/hook");
}

}  // namespace
}  // namespace isvc::webhooks
