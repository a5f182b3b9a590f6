// Inside SqliteMetadataStore (not part of the port): the connections and how they are used, shared
// by the files that implement the store.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/sqlite_db.h"
#include "storage/sqlite_metadata_store.h"

namespace isvc::storage {

struct SqliteMetadataStore::Impl {
  std::string path;
  std::unique_ptr<sqlite::Connection> writer;
  std::vector<std::unique_ptr<sqlite::Connection>> readers;
  std::atomic<unsigned> next{0};

  // WAL checkpoints (which fsync the database) run on their own connection and thread, so a
  // writer never stalls behind one; the writer's automatic checkpointing is switched off.
  std::unique_ptr<sqlite::Connection> checkpointer;
  std::thread checkpoint_thread;
  std::mutex checkpoint_mu;
  std::condition_variable checkpoint_cv;
  bool stopping = false;

  void checkpoint_loop() {
    std::unique_lock lock(checkpoint_mu);
    while (!stopping) {
      checkpoint_cv.wait_for(lock, std::chrono::milliseconds(250));
      int log = 0, done = 0;
      sqlite3_wal_checkpoint_v2(checkpointer->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log,
                                &done);
    }
  }
  ~Impl() {
    if (checkpoint_thread.joinable()) {
      {
        std::lock_guard lock(checkpoint_mu);
        stopping = true;
      }
      checkpoint_cv.notify_all();
      checkpoint_thread.join();
      sqlite3_wal_checkpoint_v2(checkpointer->raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                nullptr);
    }
  }

  // A reader connection, locked: prefers an idle one, else waits on one in turn.
  template <class F>
  auto read(F&& f) {
    unsigned n = unsigned(readers.size());
    unsigned start = next.fetch_add(1);
    for (unsigned k = 0; k < n; ++k) {
      auto& c = *readers[(start + k) % n];
      std::unique_lock lock(c.mutex(), std::try_to_lock);
      if (lock.owns_lock()) return f(c);
    }
    auto& c = *readers[start % n];
    std::lock_guard lock(c.mutex());
    return f(c);
  }
  template <class F>
  auto write(F&& f) {
    std::lock_guard lock(writer->mutex());
    return f(*writer);
  }
};

namespace sqlite {
// Removes the rows of `table` whose expires_at_ms has passed; returns how many.
inline int64_t delete_expired(Connection& c, const char* table, int64_t now_ms) {
  auto s = c.prepare(std::string("DELETE FROM ") + table + " WHERE expires_at_ms <= ?1");
  s.bind(1, now_ms);
  s.run();
  return int64_t(sqlite3_changes(c.raw()));
}

// Adds webhook events to the outbox, inside the caller's transaction (sqlite_outbox.cpp).
void record_events(Connection& c, const std::vector<domain::OutboxEvent>& events);

}  // namespace sqlite

}  // namespace isvc::storage
