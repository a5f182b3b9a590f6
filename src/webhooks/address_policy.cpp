#include "webhooks/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace isvc::webhooks {

namespace {
bool in(const unsigned char* a, unsigned b0, unsigned b1, int prefix_bits) {
  uint32_t addr = uint32_t(a[0]) << 24 | uint32_t(a[1]) << 16 | uint32_t(a[2]) << 8 | a[3];
  uint32_t net = uint32_t(b0) << 24 | uint32_t(b1) << 16;
  uint32_t mask = prefix_bits == 0 ? 0 : ~uint32_t(0) << (32 - prefix_bits);
  return (addr & mask) == (net & mask);
}
bool in3(const unsigned char* a, unsigned b0, unsigned b1, unsigned b2) {
  return a[0] == b0 && a[1] == b1 && a[2] == b2;
}
}  // namespace

std::optional<std::string> non_public_reason_v4(const unsigned char* a) {
  if (in(a, 0, 0, 8)) return "unspecified";
  if (in(a, 127, 0, 8)) return "loopback";
  if (in(a, 10, 0, 8) || in(a, 172, 16, 12) || in(a, 192, 168, 16)) return "private";
  if (in(a, 100, 64, 10)) return "shared (carrier-grade NAT)";
  if (in(a, 169, 254, 16)) return "link-local";
  if (in3(a, 192, 0, 0) || in3(a, 192, 0, 2) || in3(a, 198, 51, 100) || in3(a, 203, 0, 113) ||
      in(a, 198, 18, 15))
    return "reserved";
  if (in(a, 224, 0, 4)) return "multicast";
  if (in(a, 240, 0, 4)) return "reserved";  // and 255.255.255.255, broadcast
  return std::nullopt;
}

std::optional<std::string> non_public_reason_v6(const unsigned char* a) {
  static const unsigned char zero[16] = {};
  bool first10_zero = std::memcmp(a, zero, 10) == 0;
  if (std::memcmp(a, zero, 16) == 0) return "unspecified";
  if (std::memcmp(a, zero, 15) == 0 && a[15] == 1) return "loopback";
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated): the IPv4 address decides;
  // a compatible one is refused in any case, nothing routes it.
  if (first10_zero && a[10] == 0xff && a[11] == 0xff) return non_public_reason_v4(a + 12);
  if (first10_zero && a[10] == 0 && a[11] == 0) return "IPv4-compatible";
  // 64:ff9b::/96 (NAT64) and 2002::/16 (6to4) reach the IPv4 address they carry.
  static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
  if (std::memcmp(a, nat64, 12) == 0)
    if (auto r = non_public_reason_v4(a + 12)) return "NAT64 of " + *r;
  if (a[0] == 0x20 && a[1] == 0x02)
    if (auto r = non_public_reason_v4(a + 2)) return "6to4 of " + *r;
  if ((a[0] & 0xfe) == 0xfc) return "unique-local";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return "site-local";
  if (a[0] == 0xff) return "multicast";
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return "documentation";
  if (a[0] == 0x01 && a[1] == 0x00 && std::memcmp(a + 2, zero, 6) == 0) return "discard";
  return std::nullopt;
}

std::optional<std::string> non_public_reason(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(sa);
    return non_public_reason_v4(reinterpret_cast<const unsigned char*>(&in4->sin_addr));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    return non_public_reason_v6(reinterpret_cast<const unsigned char*>(&in6->sin6_addr));
  }
  return "not an IP address";
}

bool is_ip_literal(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::optional<std::string> non_public_reason(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return non_public_reason_v4(buf);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return non_public_reason_v6(buf);
  return std::nullopt;
}

}  // namespace isvc::webhooks
