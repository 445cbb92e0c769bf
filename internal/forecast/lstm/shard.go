package lstm

import "math/rand/v2"

// layerState is what one layer's forward pass keeps for its backward pass.
// Matrices are row-major and time-major: row t·n+b is step t of sample b.
type layerState[F floating] struct {
	// inputs holds [xₜ hₜ₋₁] for every step (stepWidth wide), so one product
	// with the combined kernel gives all four gates of a step.
	inputs []F
	// gates holds the pre-activations while a step is computed, then the
	// activations i, f, g, o.
	gates []F
	// cell and cellTanh are cₜ and tanh(cₜ).
	cell, cellTanh []F
	// mask holds the inverted-dropout multipliers (0 or 1/(1-p)) applied to
	// this layer's outputs; the top layer uses only its first n rows, for
	// the last step, which is all the dense head reads.
	mask []F
}

// shard is the forward and backward workspace for a slice of a mini-batch.
// Everything is allocated once for the largest slice, so training does not
// allocate per step; each shard owns its dropout stream so shards can run
// in parallel and still draw the same masks on every machine.
type shard[F floating] struct {
	net      *network[F]
	capacity int
	// n is the number of samples currently loaded.
	n      int
	layers []layerState[F]
	// top is the top layer's last output after dropout: the dense head's input.
	top     []F
	outputs []F
	targets []F

	dropout float64
	masks   *rand.Rand

	// Backward scratch, shared by the layers in turn.
	// dInputs holds d[xₜ hₜ₋₁] for every step: the x part flows to the layer
	// below, the h part to the previous step.
	dInputs []F
	// dOutputs holds the gradient arriving at every step's hidden state
	// from the layer above (or the dense head).
	dOutputs []F
	dCell    []F // n × units: dc flowing from step t+1 to step t
	// dDenseW and dDenseB are this shard's share of the dense head's gradient.
	dDenseW []F
	dDenseB F
}

func newShard[F floating](net *network[F], capacity int, dropout float64, masks *rand.Rand) *shard[F] {
	a := net.arch
	steps, h, g := a.window, a.units, a.gates()
	rows := steps * capacity
	s := &shard[F]{
		net:      net,
		capacity: capacity,
		layers:   make([]layerState[F], a.layers),
		top:      make([]F, capacity*h),
		outputs:  make([]F, capacity),
		targets:  make([]F, capacity),
		dropout:  dropout,
		masks:    masks,
		dInputs:  make([]F, rows*a.stepWidth(a.layers-1)),
		dOutputs: make([]F, rows*h),
		dCell:    make([]F, capacity*h),
		dDenseW:  make([]F, h),
	}
	for l := range s.layers {
		s.layers[l] = layerState[F]{
			inputs:   make([]F, rows*a.stepWidth(l)),
			gates:    make([]F, rows*g),
			cell:     make([]F, rows*h),
			cellTanh: make([]F, rows*h),
			mask:     make([]F, rows*h),
		}
	}
	return s
}

// load copies the samples at indexes from windows (one row of window
// values per sample) and targets into the first layer's inputs.
func (s *shard[F]) load(indexes []int, windows, targets []F) {
	steps := s.net.arch.window
	s.n = len(indexes)
	in := s.layers[0].inputs
	cols := s.net.arch.stepWidth(0)
	for b, idx := range indexes {
		for t := 0; t < steps; t++ {
			in[(t*s.n+b)*cols] = windows[idx*steps+t]
		}
		s.targets[b] = targets[idx]
	}
}

// loadWindows is load for inference: no targets.
func (s *shard[F]) loadWindows(windows []F) {
	steps := s.net.arch.window
	s.n = len(windows) / steps
	in := s.layers[0].inputs
	cols := s.net.arch.stepWidth(0)
	for b := 0; b < s.n; b++ {
		for t := 0; t < steps; t++ {
			in[(t*s.n+b)*cols] = windows[b*steps+t]
		}
	}
}

// drawMasks draws fresh dropout masks for the loaded samples. Each 64-bit
// draw decides four elements, by 16 bits each: an element is dropped when
// its bits are below the dropout rate rounded down to a multiple of 2⁻¹⁶,
// a difference training cannot tell, for a quarter of the draws, which
// took a tenth of training time one per element.
func (s *shard[F]) drawMasks() {
	keep := F(1 / (1 - s.dropout))
	drop := uint64(s.dropout * (1 << 16))
	values := [2]F{keep, 0}
	rows := s.net.arch.window * s.n
	for l := range s.layers {
		if l == len(s.layers)-1 {
			rows = s.n
		}
		mask := s.layers[l].mask[:rows*s.net.arch.units]
		var bits uint64
		for i := range mask {
			if i%4 == 0 {
				bits = s.masks.Uint64()
			}
			// A branch on random bits would be mispredicted at the
			// dropout rate; an index into the two values is not.
			dropped := 0
			if bits&0xffff < drop {
				dropped = 1
			}
			mask[i] = values[dropped]
			bits >>= 16
		}
	}
}

// forward runs the loaded samples through the network. In training it
// applies the dropout masks; for inference it leaves outputs untouched.
func (s *shard[F]) forward(training bool) {
	net, a := s.net, s.net.arch
	n, steps, h, g := s.n, a.window, a.units, a.gates()
	for l := range s.layers {
		st := &s.layers[l]
		in, cols := a.inputs(l), a.stepWidth(l)
		bias := net.p.bias[l]
		var next []F
		var nextCols int
		if l+1 < a.layers {
			next, nextCols = s.layers[l+1].inputs, a.stepWidth(l+1)
		}
		// hₜ₋₁ is zero at the first step. The buffer may hold a later step of
		// a larger previous batch there, and the kernel gradient reads it.
		for b := 0; b < n; b++ {
			clear(st.inputs[b*cols+in : (b+1)*cols])
		}
		for t := 0; t < steps; t++ {
			z := st.gates[t*n*g : (t+1)*n*g]
			// At the first step only the input rows of the kernel meet
			// non-zero inputs.
			k := cols
			if t == 0 {
				k = in
			}
			net.matmul(n, g, k, st.inputs[t*n*cols:], cols, net.p.kernel[l], g, z, g)

			// hₜ goes to the next step's inputs as is, and after dropout
			// to the layer above or, from the top layer's last step, to
			// the dense head. The last step writes it there directly, and
			// the dropout then applies in place.
			var cPrev []F
			if t > 0 {
				cPrev = st.cell[(t-1)*n*h : t*n*h]
			}
			hOut, hStride := s.top, h
			switch {
			case t+1 < steps:
				hOut, hStride = st.inputs[(t+1)*n*cols+in:], cols
			case next != nil:
				hOut, hStride = next[t*n*nextCols:], nextCols
			}
			net.step(z, bias, cPrev, st.cell[t*n*h:(t+1)*n*h], st.cellTanh[t*n*h:(t+1)*n*h], hOut, hStride, n, h)

			for b := 0; b < n; b++ {
				row := t*n + b
				var dst, mask []F
				switch {
				case next != nil:
					dst, mask = next[row*nextCols:row*nextCols+h], st.mask[row*h:(row+1)*h]
				case t == steps-1:
					dst, mask = s.top[b*h:(b+1)*h], st.mask[b*h:(b+1)*h]
				default:
					continue
				}
				src := hOut[b*hStride : b*hStride+h]
				if training {
					for j := range dst {
						dst[j] = src[j] * mask[j]
					}
				} else {
					copy(dst, src)
				}
			}
		}
	}
	w, bias := net.p.denseW, net.p.denseB[0]
	for b := 0; b < n; b++ {
		sum := bias
		for j, v := range s.top[b*h : (b+1)*h] {
			sum += v * w[j]
		}
		s.outputs[b] = sum
	}
}

// backward backpropagates the batch's mean squared error, given that the
// whole batch (all shards) has batchSize samples, and returns this shard's
// sum of squared errors.
//
// It leaves the dense head's gradient in s.dDenseW and s.dDenseB. For the
// kernels it writes, per layer, the gate gradients into rows start… of
// gateGrads[l] and the transposed inputs into columns start… of inputsT[l]
// (row stride stride): the trainer turns all shards' parts into each
// kernel's gradient with one product.
func (s *shard[F]) backward(batchSize int, gateGrads, inputsT [][]F, start, stride int) float64 {
	net, a := s.net, s.net.arch
	n, steps, h, g := s.n, a.window, a.units, a.gates()
	rows := steps * n

	// Dense head: loss = Σ(out-y)²/batchSize.
	var sse float64
	dOut := s.dOutputs[:rows*h]
	clear(dOut)
	clear(s.dDenseW)
	s.dDenseB = 0
	topMask := s.layers[a.layers-1].mask
	for b := 0; b < n; b++ {
		e := s.outputs[b] - s.targets[b]
		sse += float64(e) * float64(e)
		d := 2 * e / F(batchSize)
		s.dDenseB += d
		top := s.top[b*h : (b+1)*h]
		last := dOut[((steps-1)*n+b)*h:]
		for j := 0; j < h; j++ {
			s.dDenseW[j] += d * top[j]
			last[j] = d * net.p.denseW[j] * topMask[b*h+j]
		}
	}

	for l := a.layers - 1; l >= 0; l-- {
		st := &s.layers[l]
		in, cols := a.inputs(l), a.stepWidth(l)
		if l < a.layers-1 {
			// The layer above left d[xₜ hₜ₋₁] in dInputs; its x part is
			// the gradient at this layer's dropped-out outputs.
			above := a.stepWidth(l + 1)
			for r := 0; r < rows; r++ {
				src := s.dInputs[r*above : r*above+h]
				mask := st.mask[r*h : (r+1)*h]
				dst := dOut[r*h : (r+1)*h]
				for j := range dst {
					dst[j] = src[j] * mask[j]
				}
			}
		}
		dCell := s.dCell[:n*h]
		clear(dCell)
		dGates := gateGrads[l][start*g : (start+rows)*g]
		for t := steps - 1; t >= 0; t-- {
			// hₜ's gradient comes from above and, but at the last step,
			// from the next step's inputs.
			var cPrev, dhNext []F
			if t > 0 {
				cPrev = st.cell[(t-1)*n*h : t*n*h]
			}
			if t+1 < steps {
				dhNext = s.dInputs[(t+1)*n*cols+in:]
			}
			net.back(st.gates[t*n*g:(t+1)*n*g], st.cellTanh[t*n*h:(t+1)*n*h], cPrev, dOut[t*n*h:(t+1)*n*h], dhNext,
				dCell, dGates[t*n*g:(t+1)*n*g], cols, n, h)
			// d[xₜ hₜ₋₁] = dgatesₜ·[W U]. The first layer's input needs no
			// gradient, and at t = 0 hₜ₋₁ is a constant.
			first, last := 0, cols
			if l == 0 {
				first = in
			}
			if t == 0 {
				last = in
			}
			if first < last {
				net.matmul(n, last-first, g, dGates[t*n*g:], g, net.kernelT[l][first:], cols,
					s.dInputs[t*n*cols+first:], cols)
			}
		}
		transpose(inputsT[l][start:], stride, st.inputs, rows, cols, cols)
	}
	return sse
}
