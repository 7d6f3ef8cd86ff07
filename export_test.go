package strata

// WaitCommitGraph returns once every commit-graph run kv has queued (see
// graphKeeper) is written, or has failed: for tests that look at the
// runs a KV's commits wrote without closing it.
func WaitCommitGraph(kv *KV) { kv.graph.wait() }

// CommitGraphClosing reports whether Close has begun to wait for kv's
// queued commit-graph runs.
func CommitGraphClosing(kv *KV) bool {
	kv.graph.mu.Lock()
	defer kv.graph.mu.Unlock()
	return kv.graph.closed
}
