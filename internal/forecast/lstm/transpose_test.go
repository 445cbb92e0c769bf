package lstm

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTranspose checks transposes of every shape around the eight rows
// transpose reads at a time, with strides wider than the matrices whose
// padding must be neither read nor written.
func TestTranspose(t *testing.T) {
	const pad = 2
	for _, rows := range []int{1, 3, 7, 8, 9, 16, 19} {
		for _, cols := range []int{1, 2, 7} {
			t.Run(fmt.Sprintf("%dx%d", rows, cols), func(t *testing.T) {
				srcStride, dstStride := cols+pad, rows+pad
				src := filled(rows*srcStride, float32(math.NaN()))
				for r := range rows {
					for c := range cols {
						src[r*srcStride+c] = float32(r*100 + c)
					}
				}
				const sentinel = -1
				dst := filled(cols*dstStride, sentinel)
				transpose(dst, dstStride, src, rows, cols, srcStride)
				for c := range cols {
					for r := range dstStride {
						if r < rows {
							require.Equal(t, float32(r*100+c), dst[c*dstStride+r], "dst[%d][%d]", c, r)
						} else {
							require.Equal(t, float32(sentinel), dst[c*dstStride+r], "padding dst[%d][%d] was written", c, r)
						}
					}
				}
			})
		}
	}
}

// BenchmarkTranspose times the transposes of training: a layer's kernel
// after an update, and a shard's inputs for the kernel gradient.
func BenchmarkTranspose(b *testing.B) {
	for _, s := range []struct{ rows, cols, dstStride int }{{100, 200, 100}, {112, 100, 224}} {
		src := make([]float32, s.rows*s.cols)
		dst := make([]float32, s.cols*s.dstStride)
		b.Run(fmt.Sprintf("%dx%d", s.rows, s.cols), func(b *testing.B) {
			for b.Loop() {
				transpose(dst, s.dstStride, src, s.rows, s.cols, s.cols)
			}
		})
	}
}
