package lstm

import "math"

// activations are the nonlinearities of one element type, applied a row at
// a time so the per-element calls stay direct and inlined.
type activations[F floating] struct {
	// gates applies σ to the i, f and o blocks and tanh to the g block of a
	// row of 4·units pre-activations, in place.
	gates func(z []F, units int)
	// tanh sets dst[j] = tanh(src[j]).
	tanh func(dst, src []F)
}

// activationsFor picks the nonlinearities for F: float64 keeps math.Exp's
// precision for the gradient check, float32 uses exp32, since the
// exponentials are a large share of training time and float32 results need
// no more than float32 accuracy.
func activationsFor[F floating]() activations[F] {
	var a any
	switch any(F(0)).(type) {
	case float32:
		a = activations[float32]{gates: gates32, tanh: tanh32To}
	case float64:
		a = activations[float64]{gates: gates64, tanh: tanh64To}
	}
	return a.(activations[F])
}

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
