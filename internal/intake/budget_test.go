package intake

import (
	"log/slog"
	"testing"
)

// TestBatchesKeepToTheBudget: a batch never holds more mail in memory than
// the budget, whatever the sizes that arrive: large messages go to disk and
// count only their buffer, oversized ones their fetched part.
func TestBatchesKeepToTheBudget(t *testing.T) {
	w := New(Config{BatchSize: 100, FetchBudget: 32 << 20, SpoolBytes: 1 << 20, MaxMessageBytes: 10 << 20}, nil, nil, slog.New(slog.DiscardHandler))
	mib := func(n float64) int64 { return int64(n * (1 << 20)) }
	tests := []struct {
		name  string
		sizes []int64
		want  []int // batch lengths
	}{
		{"small ones: the count cuts", repeat(200, 4<<10), []int{100, 100}},
		{"under the spool size: the bytes cut", repeat(100, mib(0.9)), []int{35, 35, 30}},
		{"spooled ones hold a buffer each", repeat(150, mib(6)), []int{100, 50}},
		{"oversized ones hold their fetched part", repeat(150, mib(12)), []int{64, 64, 22}},
		{"a mix", append(repeat(20, mib(0.9)), repeat(20, mib(6))...), []int{40}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var queue []sized
			for i, s := range tt.sizes {
				queue = append(queue, sized{uid: uint32(i + 1), size: s})
			}
			var got []int
			for len(queue) > 0 {
				n := w.batchLen(queue)
				var held int64
				for _, s := range queue[:n] {
					held += w.heldBytes(s)
				}
				if n > 1 && held > w.cfg.FetchBudget {
					t.Fatalf("a batch of %d holds %d bytes, over the budget of %d", n, held, w.cfg.FetchBudget)
				}
				got = append(got, n)
				queue = queue[n:]
			}
			if len(got) != len(tt.want) {
				t.Fatalf("batches %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("batches %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func repeat(n int, size int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = size
	}
	return out
}
