// The libvips processor's settings from the configuration, shared by `serve` and the tools that
// decode stored images (backfill-placeholders), so both refuse and cap exactly alike.
#pragma once

#include "app/config.h"
#include "imaging/processing_limits.h"

namespace isvc::app {

imaging::ProcessingLimits processing_limits(const Config& cfg);

}  // namespace isvc::app
