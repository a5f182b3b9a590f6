// TLS for the listener: OpenSSL 3 server contexts (TLS 1.2 and 1.3 only, the Mozilla
// "intermediate" suites, ALPN http/1.1, a bounded server-side session cache for resumption),
// rebuilt from the files on reload while connections keep the context they started with.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace isvc::http {

// A certificate or key that cannot be used; `part` says which file is at fault.
class TlsError : public std::runtime_error {
 public:
  enum class Part { Certificate, Key };
  TlsError(Part p, const std::string& what) : std::runtime_error(what), part(p) {}
  Part part;
};

class TlsContexts {
 public:
  // Loads both files now; throws TlsError.
  TlsContexts(std::string cert_file, std::string key_file);

  // The context for a new connection (shared: a reload does not touch open connections).
  std::shared_ptr<boost::asio::ssl::context> current() const;
  // Re-reads the files into a new context; on TlsError the current one stays in use.
  void reload();
  // SHA-256 of the current leaf certificate (hex) and its notAfter, for the log.
  std::string fingerprint() const;
  std::string not_after() const;

 private:
  std::shared_ptr<boost::asio::ssl::context> build() const;

  std::string cert_file_, key_file_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> ctx_;
};

}  // namespace isvc::http
