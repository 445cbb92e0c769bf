//go:build amd64 && !purego

package lstm

import "golang.org/x/sys/cpu"

// fastestAdamUpdate32 is the assembly update where the CPU and the OS
// support AVX2 and FMA, the Go one elsewhere.
func fastestAdamUpdate32() adamUpdateFunc[float32] {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return adamUpdateFMA32
	}
	return goAdamUpdate[float32]
}

// adamUpdateFMA32 is adamUpdateFunc[float32] in AVX2 and FMA, eight
// parameters at a time. It differs from the Go loop in rounding only, and
// every parameter is updated alike, so results do not depend on where one
// falls in a vector.
func adamUpdateFMA32(s adamStep[float32], params, grads, m, v []float32) {
	n := len(params)
	if len(grads) < n || len(m) < n || len(v) < n {
		panic("lstm: Adam update with fewer gradients or moments than parameters")
	}
	if n == 0 {
		return
	}
	adamRows(&params[0], &grads[0], &m[0], &v[0], n, s.beta1, s.beta2, s.keep1, s.keep2, s.stepSize, s.epsilon)
}

// adamRows is the kernel of adamUpdateFMA32 on checked operands (n ≥ 1).
//
//go:noescape
func adamRows(params, grads, m, v *float32, n int, beta1, beta2, keep1, keep2, stepSize, epsilon float32)
