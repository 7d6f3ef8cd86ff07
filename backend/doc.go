// Package backend defines what a strata storage backend must supply: two
// primitive stores and nothing else.
//
//   - An ObjectStore is append-only and content-addressed: it stores byte
//     strings under the Hash it is given and returns them on request. It never
//     computes a hash and never interprets the bytes; the layers above
//     (contents, node, commit) encode objects, hash them with BLAKE3 and
//     re-check the hash on every read.
//   - A RefStore maps names to hashes and moves them with an atomic
//     compare-and-swap. Branches live there (see package branch).
//
// A Store is both, plus Close. Capabilities beyond the minimum (enumerating
// or deleting objects, batched reads, watching refs) are separate small
// interfaces that a backend may implement and callers discover with a type
// assertion, always with a fallback that works without them.
//
// The sentinel errors of strata live here, in the leaf package, so that every
// layer can wrap them and every caller can test them with errors.Is. The root
// package strata re-exports them.
//
// Every backend runs the conformance suite in package backendtest.
package backend
