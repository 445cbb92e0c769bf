//go:build amd64 && !purego

package lstm

import "golang.org/x/sys/cpu"

// fastestCellStep32 is the assembly cell step where the CPU and the OS
// support AVX2 and FMA, the Go one elsewhere.
func fastestCellStep32() cellStepFunc[float32] {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return cellStepFMA32
	}
	return goCellStep(gates32, tanh32To)
}

// cellStepFMA32 is cellStepFunc[float32] in AVX2 and FMA, eight units at a
// time. It differs from the Go step in rounding only (within a few ulps, see
// TestCellStep32), and every lane is computed alike, so results do not
// depend on where a unit falls in a vector.
func cellStepFMA32(z, bias, cPrev, c, ct, h []float32, hStride, rows, units int) {
	if rows == 0 || units == 0 {
		return
	}
	checkCellOperands(len(z), len(bias), len(cPrev), len(c), len(ct), len(h), hStride, rows, units)
	hasPrev := 0
	prev := &c[0]
	if len(cPrev) > 0 {
		hasPrev, prev = 1, &cPrev[0]
	}
	cellStepRows(&z[0], &bias[0], prev, &c[0], &ct[0], &h[0], hStride, rows, units, hasPrev)
}

// cellStepRows is the kernel of cellStepFMA32 on checked operands (rows,
// units ≥ 1); cPrev is read only if hasPrev is not 0.
//
//go:noescape
func cellStepRows(z, bias, cPrev, c, ct, h *float32, hStride, rows, units, hasPrev int)

// fastestCellBack32 is the assembly cell gradient where the CPU and the OS
// support AVX2 and FMA, the Go one elsewhere.
func fastestCellBack32() cellBackFunc[float32] {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return cellBackFMA32
	}
	return goCellBack[float32]
}

// cellBackFMA32 is cellBackFunc[float32] in AVX2 and FMA, eight units at a
// time, like cellStepFMA32.
func cellBackFMA32(gates, ct, cPrev, dOut, dhNext, dc, dGates []float32, dhStride, rows, units int) {
	if rows == 0 || units == 0 {
		return
	}
	checkCellBackOperands(len(gates), len(ct), len(cPrev), len(dOut), len(dhNext), len(dc), len(dGates), dhStride, rows, units)
	hasPrev, prev := 0, &dc[0]
	if len(cPrev) > 0 {
		hasPrev, prev = 1, &cPrev[0]
	}
	hasNext, next := 0, &dc[0]
	if len(dhNext) > 0 {
		hasNext, next = 1, &dhNext[0]
	}
	cellBackRows(&gates[0], &ct[0], prev, &dOut[0], next, &dc[0], &dGates[0], dhStride, rows, units, hasPrev, hasNext)
}

// cellBackRows is the kernel of cellBackFMA32 on checked operands (rows,
// units ≥ 1); cPrev and dhNext are read only if hasPrev and hasNext are
// not 0.
//
//go:noescape
func cellBackRows(gates, ct, cPrev, dOut, dhNext, dc, dGates *float32, dhStride, rows, units, hasPrev, hasNext int)
