// Which addresses a webhook may be sent to: public unicast only, unless private targets are
// allowed (WEBHOOK_ALLOW_PRIVATE_TARGETS). IPv4 and IPv6, with IPv4 inside IPv6 (mapped,
// compatible, NAT64, 6to4) judged by the IPv4 address it carries.
#pragma once

#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace isvc::webhooks {

// Why the address is not a public unicast one ("loopback", "private", "link-local", …), or
// nullopt when it is.
std::optional<std::string> non_public_reason_v4(const unsigned char* v4);  // 4 bytes
std::optional<std::string> non_public_reason_v6(const unsigned char* v6);  // 16 bytes
std::optional<std::string> non_public_reason(const sockaddr* sa);
// The same for a numeric address in text ("10.0.0.1", "::ffff:127.0.0.1"); nullopt also for text
// that is no address (check with is_ip_literal).
std::optional<std::string> non_public_reason(std::string_view ip_text);
bool is_ip_literal(std::string_view text);

}  // namespace isvc::webhooks
