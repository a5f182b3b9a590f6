// Admission control for the expensive requests: a fixed number of upload slots (the processing
// threads plus their queue) and a process-wide budget of request-body bytes in memory. Requests
// take what they need from their head, before any body byte is read, or are refused at once; a
// ticket gives it back when the response has been written.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

namespace isvc::base {

class AdmissionControl {
 public:
  AdmissionControl(int upload_slots, int64_t memory_budget_bytes)
      : slots_(upload_slots), budget_(memory_budget_bytes) {}

  enum class Refusal { None, Slots, Memory };

  // Holds what try_take granted until destroyed.
  class Ticket {
   public:
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    friend class AdmissionControl;
    Ticket(AdmissionControl& owner, bool slot, int64_t bytes)
        : owner_(owner), slot_(slot), bytes_(bytes) {}
    AdmissionControl& owner_;
    bool slot_;
    int64_t bytes_;
  };

  // An upload slot (when `slot`) and `bytes` of the memory budget, both or neither. On refusal
  // returns null and says which one was short in `why`.
  std::shared_ptr<Ticket> try_take(bool slot, int64_t bytes, Refusal* why = nullptr);

  int slots() const { return slots_; }
  int64_t budget() const { return budget_; }
  int slots_in_use() const;
  int64_t bytes_in_use() const;

 private:
  void give_back(bool slot, int64_t bytes);

  const int slots_;
  const int64_t budget_;
  mutable std::mutex mu_;
  int slots_used_ = 0;
  int64_t bytes_used_ = 0;
};

}  // namespace isvc::base
