// Package server is strata serve: an HTTP server over one store (any
// backend) that offers
//
//   - the JSON API under /v1 for programs in any language (api.go),
//     described by the OpenAPI document at /v1/openapi.json;
//   - the watch stream, Server-Sent Events of head moves (watch.go);
//   - Merkle proofs of values (proof.go);
//   - the HTTP store protocol under /v1/store, which makes http:// and
//     https:// store URLs (store.go, protocol in backend/httpstore);
//   - the web console at / (console.go, pages in package console);
//   - /healthz and Prometheus metrics at /metrics.
//
// Every request passes through one middleware chain (middleware.go):
// recovery, request logging with log/slog, metrics, size and time limits,
// and authorization by bearer token (package auth).
package server
