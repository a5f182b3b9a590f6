#include "imaging/vips_deadline.h"

#include <string>

#include "domain/model/error.h"

// libvips runs on_eval on its worker threads, which it starts and joins through GLib's own
// synchronisation (uninstrumented, so invisible to ThreadSanitizer). These annotations state the
// order libvips guarantees: a computation starts after watch() and is over before the caller
// (and so the destructor) goes on. They compile to nothing outside the TSan build.
#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#define ISVC_TSAN_ACQUIRE(p) __tsan_acquire(p)
#define ISVC_TSAN_RELEASE(p) __tsan_release(p)
#else
#define ISVC_TSAN_ACQUIRE(p) (void)(p)
#define ISVC_TSAN_RELEASE(p) (void)(p)
#endif

namespace isvc::imaging {

VipsDeadline::VipsDeadline(int timeout_ms)
    : timeout_ms_(timeout_ms),
      at_(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms)) {}

VipsDeadline::~VipsDeadline() {
  ISVC_TSAN_ACQUIRE(this);
  for (auto [image, handler] : watched_) {
    g_signal_handler_disconnect(image, handler);
    g_object_unref(image);
  }
}

bool VipsDeadline::expired() const {
  return timeout_ms_ > 0 && std::chrono::steady_clock::now() >= at_;
}

void VipsDeadline::check() {
  if (!fired_ && expired()) {
    fired_ = true;
    kill_all();
  }
  if (fired_)
    throw domain::Error(
        domain::ErrorCode::InvalidImage,
        "the image took longer than " + std::to_string(timeout_ms_) + " ms to process",
        {{"field", "file"}, {"reason", "processing_timeout"}});
}

void VipsDeadline::watch(const vips::VImage& img) {
  check();
  if (timeout_ms_ <= 0) return;
  VipsImage* image = img.get_image();
  // Progress is signalled on the most-downstream image marked for it; an image derived from a
  // marked one already signals there (and marking it again would switch its signal off).
  if (!image->progress_signal) vips_image_set_progress(image, TRUE);
  gulong handler = g_signal_connect(image, "eval", G_CALLBACK(on_eval), this);
  g_object_ref(image);
  std::lock_guard lock(mu_);
  watched_.emplace_back(image, handler);
  ISVC_TSAN_RELEASE(this);
}

void VipsDeadline::on_eval(VipsImage*, VipsProgress*, void* self) {
  auto* d = static_cast<VipsDeadline*>(self);
  ISVC_TSAN_ACQUIRE(d);
  // Again on every later signal: libvips clears a kill once a sink has picked it up, and another
  // thread's pipeline may still be running from the same images.
  if (d->fired_ || d->expired()) {
    d->fired_ = true;
    d->kill_all();
  }
  ISVC_TSAN_RELEASE(d);
}

// Every watched image, not only the one that signalled: the signal goes to the upstream image
// that was marked first, while the pixels being computed may come from a later one (a copy in
// memory). A killed image fails its next region request, which ends the sink with an error.
void VipsDeadline::kill_all() {
  std::lock_guard lock(mu_);
  for (auto [image, handler] : watched_) vips_image_set_kill(image, TRUE);
}

}  // namespace isvc::imaging
