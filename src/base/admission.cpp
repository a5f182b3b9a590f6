#include "base/admission.h"

namespace isvc::base {

AdmissionControl::Ticket::~Ticket() {
  owner_.give_back(slot_, bytes_);
}

std::shared_ptr<AdmissionControl::Ticket> AdmissionControl::try_take(bool slot, int64_t bytes,
                                                                     Refusal* why) {
  std::lock_guard lock(mu_);
  Refusal r = Refusal::None;
  if (slot && slots_used_ >= slots_)
    r = Refusal::Slots;
  else if (bytes > 0 && bytes_used_ + bytes > budget_)
    r = Refusal::Memory;
  if (why) *why = r;
  if (r != Refusal::None) return nullptr;
  if (slot) ++slots_used_;
  bytes_used_ += bytes;
  return std::shared_ptr<Ticket>(new Ticket(*this, slot, bytes));
}

void AdmissionControl::give_back(bool slot, int64_t bytes) {
  std::lock_guard lock(mu_);
  if (slot) --slots_used_;
  bytes_used_ -= bytes;
}

int AdmissionControl::slots_in_use() const {
  std::lock_guard lock(mu_);
  return slots_used_;
}

int64_t AdmissionControl::bytes_in_use() const {
  std::lock_guard lock(mu_);
  return bytes_used_;
}

}  // namespace isvc::base
