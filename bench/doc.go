// Package bench is strata's benchmark suite: a library of workloads that
// run the same logical work, with the same keys and values, against strata
// on each backend, against the raw backends without versioning (the
// floors), and, from the separate module in bench/peers, against go-git and
// Dolt's store.
//
// A Target is one system under test; a Factory makes fresh ones. Run drives
// every workload of issue 3 over a set of factories, layouts and sizes and
// returns Results, each the median of several timed samples with its
// spread; WriteTable and WriteJSON print them with ratios against a
// reference row. The same workloads back the testing.B benchmarks in this
// package and the commands bench/cmd/stratabench and
// bench/peers/cmd/peerbench.
//
// The workloads, for a store holding N keys (see Dataset):
//
//	load  bulk load of N keys in one commit, on a fresh store
//	set   set one existing key to a new value, as one commit
//	get   read one random existing key (warm: each key read once first, see WarmGets)
//	diff  diff two commits that differ in 10 keys
//	log   which of the newest 1,000 commits changed one path
//	ls    the first 100 names of the directory "d"
//	mem   heap bytes per key after the bulk load (in-memory targets only)
//
// RunSync measures the sync workloads of issue 12 (stratabench -sync),
// each beside its peer in the same run:
//
//	clone       disk store to a new disk store, vs git clone --no-local --bare
//	push-bulk   one commit of N keys, disk to an empty Redis, vs pipelined SETs
//	            of the same objects
//	push-incr   one commit of 10 keys on top of an N-key history, to Redis
//	fetch-none  a fetch from that Redis with nothing new
//
// Issue11 judges issue 11's performance targets on the results of one
// stratabench run and one peerbench run (stratabench -verdict), each row
// by that run's own figures.
//
// Nothing here asserts a time: the tests only check that every workload
// runs and returns the right counts.
package bench
