package commit_test

import (
	"testing"

	"github.com/stratakv/strata/backend"
	"github.com/stratakv/strata/commit"
)

func BenchmarkDecode(b *testing.B) {
	enc := commit.Encode(&commit.Commit{Tree: h(1), Parents: []backend.Hash{h(2)}, Author: "ops", Message: "a commit message of ordinary length", Time: 1767225600000000000, Height: 2})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := commit.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
