#include "app/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>

namespace isvc::app {
namespace {

// A bound unix datagram socket standing in for systemd's notify socket.
class Receiver {
 public:
  explicit Receiver(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    if (a.sun_path[0] == '@') a.sun_path[0] = '\0';
    socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + path.size());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), len), 0) << std::strerror(errno);
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Receiver() {
    ::close(fd_);
    if (path_[0] == '/') ::unlink(path_.c_str());
  }
  std::string next() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? "<nothing>" : std::string(buf, std::size_t(n));
  }

 private:
  std::string path_;
  int fd_;
};

TEST(SdNotify, SendsEachStateAsOneDatagram) {
  auto path = (std::filesystem::temp_directory_path() /
               ("isvc-notify-" + std::to_string(::getpid()) + ".sock"))
                  .string();
  Receiver rx(path);
  ASSERT_TRUE(sd_notify(path, "READY=1\nSTATUS=listening"));
  ASSERT_TRUE(sd_notify(path, "STOPPING=1"));
  EXPECT_EQ(rx.next(), "READY=1\nSTATUS=listening");
  EXPECT_EQ(rx.next(), "STOPPING=1");
}

TEST(SdNotify, AbstractNamespaceAndNoSocket) {
  std::string name = "@isvc-notify-" + std::to_string(::getpid());
  Receiver rx(name);
  ASSERT_TRUE(sd_notify(name, "READY=1"));
  EXPECT_EQ(rx.next(), "READY=1");
  EXPECT_TRUE(sd_notify("", "READY=1"));  // not under systemd: nothing to do
  EXPECT_FALSE(sd_notify("relative/path", "READY=1"));
  EXPECT_FALSE(sd_notify("/nonexistent/dir/notify.sock", "READY=1"));
}

}  // namespace
}  // namespace isvc::app
