package lstm

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// floating is the element type of a network. Training runs in float32, the
// precision Keras and PyTorch train this model in, on the package's own
// assembly kernels where the CPU has them. float64 exists so the gradient
// check can compare against finite differences.
type floating interface {
	float32 | float64
}

// transpose writes the rows×cols matrix src (row stride srcStride) to dst
// as a cols×rows matrix with row stride dstStride. It reads eight rows at
// a time, so each write is eight adjacent values with one bounds check:
// twice as fast as one value at a time, when transposes took a tenth of
// training.
func transpose[F floating](dst []F, dstStride int, src []F, rows, cols, srcStride int) {
	r := 0
	for ; r+8 <= rows; r += 8 {
		row := func(i int) []F { return src[(r+i)*srcStride : (r+i)*srcStride+cols] }
		row0, row1, row2, row3, row4, row5, row6, row7 := row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7)
		for c, v := range row0 {
			d := dst[c*dstStride+r : c*dstStride+r+8]
			d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = v, row1[c], row2[c], row3[c], row4[c], row5[c], row6[c], row7[c]
		}
	}
	for ; r < rows; r++ {
		for c, v := range src[r*srcStride : r*srcStride+cols] {
			dst[c*dstStride+r] = v
		}
	}
}

// architecture is the shape of the network: stacked LSTM layers reading a
// window of one feature, and a dense head on the top layer's last output.
type architecture struct {
	layers, units, window int
}

// inputs is the width of layer l's input: one price feature for the first
// layer, the previous layer's hidden state above it.
func (a architecture) inputs(l int) int {
	if l == 0 {
		return 1
	}
	return a.units
}

// stepWidth is the width of layer l's input row [xₜ hₜ₋₁] at one step, and
// so the number of rows of its combined kernel [W U]ᵀ, the input weights
// stacked on the recurrent weights: one product [xₜ hₜ₋₁]·[W U]ᵀ yields all
// four gates.
func (a architecture) stepWidth(l int) int {
	return a.inputs(l) + a.units
}

// gates is the number of gate pre-activations per step: input, forget,
// cell candidate and output, in the Keras (and PyTorch) order.
func (a architecture) gates() int {
	return 4 * a.units
}

// parameterCount is the number of trainable values. Each layer has one bias
// vector, as in Keras; PyTorch's LSTM keeps two redundant ones and so counts
// 4·units more per layer.
func (a architecture) parameterCount() int {
	n := 0
	for l := 0; l < a.layers; l++ {
		n += a.gates()*a.stepWidth(l) + a.gates()
	}
	return n + a.units + 1
}

// tensors are the named parts of a flat parameter (or gradient) vector.
type tensors[F floating] struct {
	// kernel[l] is layer l's stepWidth(l)×gates() matrix [W U]ᵀ, Keras's
	// layout: row i holds the weights of input i into every gate unit.
	kernel [][]F
	bias   [][]F
	// denseW and denseB are the output head's weights and bias.
	denseW, denseB []F
}

// split slices flat into the network's tensors; parameters and gradients
// share this layout so the optimiser can treat them as single vectors.
// Each layer's bias follows its kernel, as a last row: the trainer computes
// both gradients with one product.
func split[F floating](a architecture, flat []F) tensors[F] {
	t := tensors[F]{kernel: make([][]F, a.layers), bias: make([][]F, a.layers)}
	take := func(n int) []F {
		part := flat[:n:n]
		flat = flat[n:]
		return part
	}
	for l := 0; l < a.layers; l++ {
		t.kernel[l] = take(a.gates() * a.stepWidth(l))
		t.bias[l] = take(a.gates())
	}
	t.denseW = take(a.units)
	t.denseB = take(1)
	return t
}

// network holds the trainable parameters and what the passes derive from them.
type network[F floating] struct {
	arch   architecture
	params []F
	p      tensors[F]
	// kernelT[l] is the transpose of p.kernel[l], [W U], refreshed after
	// every update: backpropagating through a step needs dgates·[W U], and
	// the products take their operands in row-major order only.
	kernelT [][]F
	matmul  matmulFunc[F]
	step    cellStepFunc[F]
	back    cellBackFunc[F]
}

// newNetwork initialises the parameters the way Keras does: Glorot-uniform
// input kernels, orthogonal recurrent kernels (one orthogonal block per
// gate, as in the PyTorch reference), zero biases except a forget-gate bias
// of 1, and a Glorot-uniform dense head with zero bias.
func newNetwork[F floating](a architecture, rng *rand.Rand) *network[F] {
	n := &network[F]{
		arch:    a,
		params:  make([]F, a.parameterCount()),
		kernelT: make([][]F, a.layers),
		matmul:  matmulFor[F](),
		step:    cellStepFor[F](),
		back:    cellBackFor[F](),
	}
	n.p = split(a, n.params)
	h, g := a.units, a.gates()
	for l := 0; l < a.layers; l++ {
		in, cols := a.inputs(l), a.stepWidth(l)
		kernel := n.p.kernel[l]
		limit := math.Sqrt(6 / float64(in+g))
		for j := 0; j < g; j++ {
			for i := 0; i < in; i++ {
				kernel[i*g+j] = F(limit * (2*rng.Float64() - 1))
			}
		}
		for gate := 0; gate < 4; gate++ {
			q := orthogonal(rng, h)
			for r := 0; r < h; r++ {
				for c := 0; c < h; c++ {
					kernel[(in+c)*g+gate*h+r] = F(q.At(r, c))
				}
			}
		}
		forget := n.p.bias[l][h : 2*h]
		for j := range forget {
			forget[j] = 1
		}
		n.kernelT[l] = make([]F, g*cols)
	}
	limit := math.Sqrt(6 / float64(h+1))
	for j := range n.p.denseW {
		n.p.denseW[j] = F(limit * (2*rng.Float64() - 1))
	}
	n.syncTransposed()
	return n
}

// orthogonal returns a random n×n orthogonal matrix: the Q of a Gaussian
// matrix's QR decomposition with column signs fixed by R's diagonal, which
// makes it uniformly (Haar) distributed, as PyTorch's and Keras's
// orthogonal initialisers do.
func orthogonal(rng *rand.Rand, n int) *mat.Dense {
	a := mat.NewDense(n, n, nil)
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			a.Set(r, c, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q, r mat.Dense
	qr.QTo(&q)
	qr.RTo(&r)
	for c := 0; c < n; c++ {
		if r.At(c, c) < 0 {
			for row := 0; row < n; row++ {
				q.Set(row, c, -q.At(row, c))
			}
		}
	}
	return &q
}

// syncTransposed refreshes the transposed kernels after the parameters change.
func (n *network[F]) syncTransposed() {
	for l, kernel := range n.p.kernel {
		g, cols := n.arch.gates(), n.arch.stepWidth(l)
		transpose(n.kernelT[l], cols, kernel, cols, g, g)
	}
}
