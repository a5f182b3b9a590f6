#include "app/crash_report.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "obs/log_context.h"

namespace isvc::app {

namespace {

// What the handler writes with, all async-signal-safe: a fixed buffer and write(2).
class Line {
 public:
  void text(const char* s) {
    while (*s && n_ < sizeof buf_) buf_[n_++] = *s++;
  }
  // A JSON string's contents: quotes, backslashes and control bytes escaped.
  void escaped(const char* s, std::size_t len) {
    for (std::size_t i = 0; i < len; ++i) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '\\') {
        put('\\');
        put(char(c));
      } else if (c < 0x20) {
        text("\\u00");
        put(kHex[c >> 4]);
        put(kHex[c & 15]);
      } else {
        put(char(c));
      }
    }
  }
  void hex(uintptr_t v) {
    char digits[2 * sizeof v];
    int k = 0;
    do {
      digits[k++] = kHex[v & 15];
      v >>= 4;
    } while (v);
    text("0x");
    while (k) put(digits[--k]);
  }
  void number(uintptr_t v) {
    char digits[24];
    int k = 0;
    do {
      digits[k++] = char('0' + v % 10);
      v /= 10;
    } while (v);
    while (k) put(digits[--k]);
  }
  void flush() {
    std::size_t off = 0;
    while (off < n_) {
      ssize_t w = ::write(STDERR_FILENO, buf_ + off, n_ - off);
      if (w <= 0) break;
      off += std::size_t(w);
    }
  }

 private:
  static constexpr char kHex[] = "0123456789abcdef";
  void put(char c) {
    if (n_ < sizeof buf_) buf_[n_++] = c;
  }
  char buf_[16384];
  std::size_t n_ = 0;
};

// The signals reported, with the names the report gives them.
struct Reported {
  int sig;
  const char* name;
};
constexpr Reported kSignals[] = {{SIGSEGV, "SIGSEGV"},
                                 {SIGBUS, "SIGBUS"},
                                 {SIGFPE, "SIGFPE"},
                                 {SIGILL, "SIGILL"},
                                 {SIGABRT, "SIGABRT"}};

const char* signal_name(int sig) {
  for (const auto& r : kSignals)
    if (r.sig == sig) return r.name;
  return "signal";
}

std::atomic<bool> g_reporting{false};
Line g_line;  // static: 16 KiB is more than a thread's stack should be asked for here

void on_crash(int sig, siginfo_t* info, void*) {
  // One report: a second fault (in another thread, or in this handler) goes straight to the
  // default action.
  if (!g_reporting.exchange(true)) {
    void* frames[48];
    int n = backtrace(frames, 48);
    Line& l = g_line;
    l.text("{\"level\":\"error\",\"event\":\"crash\",\"signal\":\"");
    l.text(signal_name(sig));
    l.text("\"");
    if (info && info->si_code <= 0) {  // sent (kill, tgkill, raise): no faulting address
      l.text(",\"sentByPid\":");
      l.number(uintptr_t(info->si_pid));
    } else {
      l.text(",\"address\":\"");
      l.hex(reinterpret_cast<uintptr_t>(info ? info->si_addr : nullptr));
      l.text("\"");
    }
    l.text(",\"pid\":");
    l.number(uintptr_t(::getpid()));
    const std::string& request = obs::LogContext::current();
    if (!request.empty()) {
      l.text(",\"requestId\":\"");
      l.escaped(request.data(), request.size());
      l.text("\"");
    }
    l.text(",\"frames\":[");
    // Frame 0 is this handler, 1 the kernel's signal trampoline: the fault is from 2 on.
    for (int i = 2; i < n; ++i) {
      if (i > 2) l.text(",");
      l.text("\"");
      Dl_info d{};
      auto pc = reinterpret_cast<uintptr_t>(frames[i]);
      if (dladdr(frames[i], &d) && d.dli_fname) {
        const char* base = std::strrchr(d.dli_fname, '/');
        base = base ? base + 1 : d.dli_fname;
        l.escaped(base, std::strlen(base));
        l.text("+");
        l.hex(pc - reinterpret_cast<uintptr_t>(d.dli_fbase));
        if (d.dli_sname) {
          l.text(" ");
          l.escaped(d.dli_sname, std::strlen(d.dli_sname));
        }
      } else {
        l.hex(pc);
      }
      l.text("\"");
    }
    l.text("]}\n");
    l.flush();
  }
  // The default action, from here: the same exit status and core as without the report.
  ::signal(sig, SIG_DFL);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
  ::raise(sig);
}

}  // namespace

void install_crash_report() {
  static std::once_flag once;
  std::call_once(once, [] {
    // backtrace() loads libgcc on its first call, which is not safe inside a handler: now.
    void* warm[1];
    backtrace(warm, 1);
    struct sigaction sa {};
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    for (const auto& r : kSignals) sigaction(r.sig, &sa, nullptr);
  });
}

}  // namespace isvc::app
