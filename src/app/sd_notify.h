// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram per state change
// to the unix socket named by $NOTIFY_SOCKET (a path, or @name for the abstract namespace).
#pragma once

#include <string>

namespace isvc::app {

// Sends `state` (e.g. "READY=1\nSTATUS=...") to `socket_path`; does nothing when the path is empty
// (not started by systemd). Returns false when the datagram could not be sent.
bool sd_notify(const std::string& socket_path, const std::string& state);

}  // namespace isvc::app
