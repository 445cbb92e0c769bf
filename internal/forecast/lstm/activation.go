package lstm

import (
	"fmt"
	"math"
)

// cellStepFunc finishes one time step of a layer for rows samples, given
// the product of their inputs with the kernel in z (rows × 4·units): it adds
// the bias to every row, activates the gates in place (σ for i, f and o,
// tanh for g), and sets the cell states c = f·cPrev + i·g, their tanh ct
// (both rows × units) and the hidden states h = o·ct into rows hStride
// apart. An empty cPrev is the zero state of the first step.
type cellStepFunc[F floating] func(z, bias, cPrev, c, ct, h []F, hStride, rows, units int)

// goCellStep is the cell step in Go on the given nonlinearities.
func goCellStep[F floating](gates func(z []F, units int), tanh func(dst, src []F)) cellStepFunc[F] {
	return func(z, bias, cPrev, c, ct, h []F, hStride, rows, units int) {
		checkCellOperands(len(z), len(bias), len(cPrev), len(c), len(ct), len(h), hStride, rows, units)
		g := 4 * units
		for b := range rows {
			gb := z[b*g : (b+1)*g]
			for j, v := range bias[:g] {
				gb[j] += v
			}
			gates(gb, units)
			i, f, cand, o := gb[:units], gb[units:2*units], gb[2*units:3*units], gb[3*units:]
			cb := c[b*units : (b+1)*units]
			if len(cPrev) > 0 {
				prev := cPrev[b*units : (b+1)*units]
				for j := range cb {
					cb[j] = f[j]*prev[j] + i[j]*cand[j]
				}
			} else {
				for j := range cb {
					cb[j] = i[j] * cand[j]
				}
			}
			tb := ct[b*units : (b+1)*units]
			tanh(tb, cb)
			hb := h[b*hStride : b*hStride+units]
			for j := range hb {
				hb[j] = o[j] * tb[j]
			}
		}
	}
}

// cellBackFunc backpropagates through one time step of a layer for rows
// samples: from the gates' activations (rows × 4·units, as the step left
// them), tanh of the cell states ct, the previous cell states cPrev (empty
// at the first step), the gradient dOut at the hidden states from above and
// dhNext from the next step (rows dhStride apart, empty at the last step),
// and the cell-state gradient dc from the next step, it sets the gate
// gradients dGates (rows × 4·units, in the gates' order) and replaces dc
// with the cell-state gradient passed to the previous step.
type cellBackFunc[F floating] func(gates, ct, cPrev, dOut, dhNext, dc, dGates []F, dhStride, rows, units int)

// goCellBack is the cell gradient in Go.
func goCellBack[F floating](gates, ct, cPrev, dOut, dhNext, dc, dGates []F, dhStride, rows, units int) {
	checkCellBackOperands(len(gates), len(ct), len(cPrev), len(dOut), len(dhNext), len(dc), len(dGates), dhStride, rows, units)
	g := 4 * units
	for b := range rows {
		gb := gates[b*g : (b+1)*g]
		i, f, cand, o := gb[:units], gb[units:2*units], gb[2*units:3*units], gb[3*units:]
		db := dGates[b*g : (b+1)*g]
		di, df, dcand, do := db[:units], db[units:2*units], db[2*units:3*units], db[3*units:]
		tc, dcb := ct[b*units:(b+1)*units], dc[b*units:(b+1)*units]
		dh := dOut[b*units : (b+1)*units]
		var next, prev []F
		if len(dhNext) > 0 {
			next = dhNext[b*dhStride : b*dhStride+units]
		}
		if len(cPrev) > 0 {
			prev = cPrev[b*units : (b+1)*units]
		}
		for j, t := range tc {
			d := dh[j]
			if next != nil {
				d += next[j]
			}
			dcj := dcb[j] + d*o[j]*(1-t*t)
			di[j] = dcj * cand[j] * i[j] * (1 - i[j])
			dcand[j] = dcj * i[j] * (1 - cand[j]*cand[j])
			do[j] = d * t * o[j] * (1 - o[j])
			dcb[j] = dcj * f[j]
			if prev != nil {
				df[j] = dcb[j] * prev[j] * (1 - f[j])
			} else {
				df[j] = 0
			}
		}
	}
}

// checkCellBackOperands is checkCellOperands for a cell gradient.
func checkCellBackOperands(lenGates, lenCt, lenPrev, lenDOut, lenNext, lenDc, lenDGates, dhStride, rows, units int) {
	cells := rows * units
	if rows < 0 || units < 0 || dhStride < units || lenGates < 4*cells || lenDGates < 4*cells ||
		lenCt < cells || lenDOut < cells || lenDc < cells || (lenPrev != 0 && lenPrev < cells) ||
		(lenNext != 0 && lenNext < (rows-1)*dhStride+units) {
		panic(fmt.Sprintf("lstm: bad cell gradient operands: %d rows of %d units, dh stride %d, lengths gates %d, ct %d, cPrev %d, dOut %d, dhNext %d, dc %d, dGates %d",
			rows, units, dhStride, lenGates, lenCt, lenPrev, lenDOut, lenNext, lenDc, lenDGates))
	}
}

// checkCellOperands panics if the operands of a cell step do not hold what
// its shape describes: the assembly would read or write past them instead.
func checkCellOperands(lenZ, lenBias, lenPrev, lenC, lenCt, lenH, hStride, rows, units int) {
	cells := rows * units
	if rows < 0 || units < 0 || hStride < units || lenZ < 4*cells || lenBias < 4*units ||
		(lenPrev != 0 && lenPrev < cells) || lenC < cells || lenCt < cells || lenH < (rows-1)*hStride+units {
		panic(fmt.Sprintf("lstm: bad cell step operands: %d rows of %d units, h stride %d, lengths z %d, bias %d, cPrev %d, c %d, ct %d, h %d",
			rows, units, hStride, lenZ, lenBias, lenPrev, lenC, lenCt, lenH))
	}
}

// cellStepFor picks the cell step for F: float64 keeps math.Exp's
// precision for the gradient check, float32 uses exp32, in the assembly
// kernel where the CPU has it, since the exponentials are a large share of
// training time and float32 results need no more than float32 accuracy.
func cellStepFor[F floating]() cellStepFunc[F] {
	var step any
	switch any(F(0)).(type) {
	case float32:
		step = fastestCellStep32()
	case float64:
		step = goCellStep(gates64, tanh64To)
	}
	return step.(cellStepFunc[F])
}

// cellBackFor picks the cell gradient for F: the assembly kernel for
// float32 where the CPU has it, Go otherwise.
func cellBackFor[F floating]() cellBackFunc[F] {
	var back any
	switch any(F(0)).(type) {
	case float32:
		back = fastestCellBack32()
	case float64:
		back = cellBackFunc[float64](goCellBack[float64])
	}
	return back.(cellBackFunc[F])
}

// gates64 and gates32 apply σ to the i, f and o blocks and tanh to the g
// block of a row of 4·units pre-activations, in place; tanh64To and
// tanh32To set dst[j] = tanh(src[j]).
func gates64(z []float64, units int) {
	for j, v := range z[:2*units] {
		z[j] = 1 / (1 + math.Exp(-v))
	}
	for j, v := range z[2*units : 3*units] {
		z[2*units+j] = 1 - 2/(math.Exp(2*v)+1)
	}
	for j, v := range z[3*units : 4*units] {
		z[3*units+j] = 1 / (1 + math.Exp(-v))
	}
}

func tanh64To(dst, src []float64) {
	for j, v := range src {
		dst[j] = 1 - 2/(math.Exp(2*v)+1)
	}
}

func gates32(z []float32, units int) {
	for j, v := range z[:2*units] {
		z[j] = 1 / (1 + exp32(-v))
	}
	for j, v := range z[2*units : 3*units] {
		z[2*units+j] = 1 - 2/(exp32(2*v)+1)
	}
	for j, v := range z[3*units : 4*units] {
		z[3*units+j] = 1 / (1 + exp32(-v))
	}
}

func tanh32To(dst, src []float32) {
	for j, v := range src {
		dst[j] = 1 - 2/(exp32(2*v)+1)
	}
}

// exp32 is eˣ to float32 accuracy (within 2 ulp), the Cephes expf
// algorithm: x = n·ln2 + r with |r| ≤ ln2/2, a degree-7 polynomial for eʳ,
// then 2ⁿ from the exponent bits. It saturates to +Inf and 0 like math.Exp
// and is several times faster, which matters because the sigmoid and tanh
// of every gate take one exponential each.
func exp32(x float32) float32 {
	const (
		log2e  = 1.44269504088896341
		ln2Hi  = 0.693359375
		ln2Lo  = -2.12194440e-4
		maxArg = 88.72283905206835
		minArg = -103.97207708
	)
	switch {
	case x > maxArg:
		return float32(math.Inf(1))
	case x < minArg:
		return 0
	case math.IsNaN(float64(x)):
		return x
	}
	// Adding 1.5·2²³ rounds x·log₂e to the nearest integer, which the
	// float32 then holds in its low mantissa bits.
	const round = 1.5 * (1 << 23)
	shifted := x*log2e + round
	n := shifted - round
	r := x - n*ln2Hi - n*ln2Lo
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	// 2ⁿ is built from exponent bits, which hold only normal powers
	// 2⁻¹²⁶…2¹²⁷; beyond them the power is applied in two factors.
	switch e := int32(math.Float32bits(shifted)) - int32(math.Float32bits(round)); {
	case e > 127:
		return p * 2 * math.Float32frombits(uint32(e-1+127)<<23)
	case e < -126:
		return p * math.Float32frombits(uint32(e+64+127)<<23) * (1.0 / (1 << 64))
	default:
		return p * math.Float32frombits(uint32(e+127)<<23)
	}
}
