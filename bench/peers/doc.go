// Package peers runs strata's benchmark workloads (package
// github.com/stratakv/strata/bench) on two peers doing the same logical
// work with the same keys and values: go-git v5 over its in-memory object
// storage, and Dolt's noms-lineage store (types.Map in a datas database
// over chunks.MemoryStorage, github.com/dolthub/dolt/go v0.40.4).
//
// It is a separate Go module so that strata's own module does not depend
// on either; it reaches strata through a replace directive pointing at the
// repository root. The command cmd/peerbench runs the peers and strata in
// one run and prints one table.
package peers
