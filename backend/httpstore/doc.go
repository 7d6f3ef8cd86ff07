// Package httpstore is the HTTP store: a backend.Store served by a strata
// server over HTTP (the protocol of docs/PROTOCOL.md, under /v1/store/),
// and the handler that serves any backend.Store by that protocol.
//
// The client, Open, makes http://HOST:PORT[/PATH][?token=TOKEN] and
// https://… store URLs. It keeps a bounded pool of keep-alive
// connections, sends every batch in one request (Has, GetMany, Put) and a
// commit's objects and ref swap in one request (RefCommitter), and
// streams ref events over one long-lived response (RefWatcher). Errors the
// server answers wrap the same backend sentinels as a local store
// (ErrNotFound, ErrConflict, ErrCorrupt, ErrReadOnly, ErrClosed); a server
// that cannot be reached wraps ErrUnreachable, a refused token
// ErrUnauthorized or ErrForbidden. The token travels only in the
// Authorization header and never appears in an error.
//
// The handler, NewHandler, serves a store without knowing about branches
// or tokens: authorization comes in through HandlerOptions.Authorize, and
// HandlerOptions.Verify lets the server check that a put object hashes to
// its key. It does not hash anything itself otherwise: the client's layers
// re-hash every object they read, so a client need not trust the server.
package httpstore
