#ifndef SCIMD_HTTP_HANDLERS_H
#define SCIMD_HTTP_HANDLERS_H

#include "api/call.h"

/* Endpoints of the server itself. */

/* GET /healthz: 200 "ok" when the database answers, 503 otherwise. */
int http_healthz_get(struct api_call *call, struct err *err);
/* GET /metrics: Prometheus text format. */
int http_metrics_get(struct api_call *call, struct err *err);

#endif
