// Package layered composes two backends into one: a read-through object
// cache (the front, e.g. a local Pebble store) before the store of record
// (the back, e.g. Redis or an HTTP store).
//
// Objects are immutable and content-addressed, so a cached object is
// always valid: objects are read from the front first, misses are fetched
// from the back in one batch and kept in the front; writes go to the back
// and, once the back has accepted them, are kept in the front too. Refs
// always come from the back, except for the refs a watch keeps current
// (Options.WatchPrefix; all refs by default): while a watch on the back
// runs, GetRef and ListRefs of those refs are answered from the state the
// watch maintains, so a warm read of an unchanged branch makes no round
// trip at all.
//
// Consistency of watched refs: a read is never staler than the back's
// event stream, so it may lag a write by another client by the watch's
// latency (as a read from a replica would). A client always reads its own
// writes: after its own swap of a ref, reads of that ref go to the back
// until the stream has delivered that swap. A compare-and-swap always goes
// to the back; a conflict re-reads the ref from the back and, if the watch
// state is behind, reads of that ref go to the back until the stream
// catches up. When the stream breaks (the back went away, or this client
// fell behind) every ref read goes to the back until a new watch is in
// place and the refs have been listed again.
package layered
