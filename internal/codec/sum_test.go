package codec_test

import (
	"encoding/hex"
	"fmt"
	"sync"
	"testing"

	"github.com/zeebo/blake3"

	"github.com/stratakv/strata/internal/codec"
)

// sumSizes are input lengths around BLAKE3's block (64), chunk (1024) and
// hasher buffer (8192) boundaries, where Sum changes how it hashes.
var sumSizes = []int{0, 1, 63, 64, 65, 1023, 1024, 1025, 1415, 2047, 2048, 2049, 3000, 8191, 8192, 8193, 20000}

func sumInput(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + seed*7 + i>>8)
	}
	return b
}

// TestSumIsBLAKE3 checks Sum against blake3.Sum256 at every size of
// sumSizes, in an order that makes each reused hasher follow a longer or
// shorter input, and against BLAKE3's published hash of the empty input.
func TestSumIsBLAKE3(t *testing.T) {
	if got, want := codec.Sum(nil), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"; hex.EncodeToString(got[:]) != want {
		t.Fatalf("Sum(empty) = %x, want %s", got, want)
	}
	order := append(append([]int{}, sumSizes...), sumSizes...)
	for i, j := 0, len(order)-1; i < len(sumSizes); i, j = i+1, j-1 {
		order[len(sumSizes)+i] = sumSizes[len(sumSizes)-1-i] // then longest first
	}
	for k, n := range order {
		data := sumInput(n, k)
		if got, want := codec.Sum(data), blake3.Sum256(data); got != want {
			t.Fatalf("Sum of %d bytes = %x, want %x", n, got, want)
		}
	}
}

// TestSumConcurrent hashes from several goroutines at once (run with
// -race): each Sum must use a hasher of its own.
func TestSumConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 20 {
				n := sumSizes[(g*5+r)%len(sumSizes)]
				data := sumInput(n, g)
				if got, want := codec.Sum(data), blake3.Sum256(data); got != want {
					t.Errorf("goroutine %d: Sum of %d bytes = %x, want %x", g, n, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkSum is Sum at the sizes of a small commit's objects: a commit
// (about 200 bytes), an index (about 400), leaves of 1 to 4 KB, and 8 KB.
// zeebo/blake3 hashes inputs of at most 2 KB one 64-byte block at a time
// (SSE4.1) and longer ones 8 chunks at once (AVX2, where the CPU has it),
// so 2,049 bytes take less time than 2,048.
func BenchmarkSum(b *testing.B) {
	for _, n := range []int{200, 400, 1024, 2048, 2049, 3800, 8192} {
		data := sumInput(n, 1)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for range b.N {
				codec.Sum(data)
			}
		})
	}
}
