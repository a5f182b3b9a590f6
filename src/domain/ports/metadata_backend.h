// What a metadata backend serves: the record ports, the webhook outbox and its health, in one
// object (each adapter keeps all of them in one table or database). Callers take the port they
// need; only the wiring in app/ sees the whole. Adapters: storage/sqlite_metadata_store,
// storage/dynamodb_metadata_store, and the timing decorator storage/instrumented.
#pragma once

#include "domain/ports/backend_health.h"
#include "domain/ports/event_outbox.h"
#include "domain/ports/idempotency_repository.h"
#include "domain/ports/image_maintenance.h"
#include "domain/ports/image_repository.h"
#include "domain/ports/upload_repository.h"

namespace isvc::domain {

class MetadataBackend : public ImageRepository,
                        public ImageMaintenance,
                        public UploadRepository,
                        public IdempotencyRepository,
                        public EventOutbox,
                        public BackendHealth {};

}  // namespace isvc::domain
