// A crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) writes one JSON line to stderr before the
// process dies of it: the signal, the faulting address, the request the crashing thread was
// serving, and the stack as `file+0xoffset` frames (resolve them with
// `addr2line -Cfe image-service 0x…` or gdb; docs/operations.md, "When it crashes"). The signal
// is then raised again with its default action, so the exit status, a core dump and systemd's
// restart policy are what they would have been without the report.
#pragma once

namespace isvc::app {

// Installs the handlers, for every thread. Once per process; later calls do nothing. (No
// alternate stack: a stack overflow dies of its SIGSEGV unreported, as before.)
void install_crash_report();

}  // namespace isvc::app
