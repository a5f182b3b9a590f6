// A thin RAII layer over the SQLite C API for the store: connections with a cache of prepared
// statements, a statement cursor with typed binds/columns, and errors mapped to domain::Error.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace isvc::storage::sqlite {

// Throws domain::Error: Unavailable (busy/locked) or StorageFailed.
[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what);

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  ~Statement() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, int64_t v);
  Statement& bind(int i, std::string_view v);
  Statement& bind(int i, const std::optional<std::string>& v);
  Statement& bind_null(int i);

  bool step();  // true while a row is available
  void run();   // steps to completion

  int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  std::string text(int col) const;
  std::optional<std::string> opt_text(int col) const;
  int changes() const { return sqlite3_changes(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
};

class Connection {
 public:
  // synchronous: "NORMAL" (WAL: durable across process crashes, fsync at checkpoints) or "FULL"
  // (fsync on every commit: durable across power loss too).
  Connection(const std::string& path, bool writer, const std::string& synchronous = "NORMAL");
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A cached prepared statement for this SQL text (prepared once per connection).
  Statement prepare(const std::string& sql);
  void exec(const std::string& sql);
  sqlite3* raw() { return db_; }
  std::mutex& mutex() { return mu_; }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  std::mutex mu_;
};

// BEGIN IMMEDIATE … COMMIT, rolled back when the scope exits without commit().
class Transaction {
 public:
  explicit Transaction(Connection& c) : c_(c) { c_.exec("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!done_) sqlite3_exec(c_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    c_.exec("COMMIT");
    done_ = true;
  }

 private:
  Connection& c_;
  bool done_ = false;
};

}  // namespace isvc::storage::sqlite
