package lstm

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/augurhq/augur/internal/compute"
	"github.com/augurhq/augur/internal/forecast"
)

// shardCount is how many parts each mini-batch is split into, each part's
// passes running on its own goroutine while the compute budget has a thread
// free, and on the trainer's otherwise. It is a constant, not GOMAXPROCS or
// the free threads, so that the summation order, and with it every result,
// is the same on every machine and under every load.
const shardCount = 2

// trainer runs mini-batch training of a network.
type trainer[F floating] struct {
	net    *network[F]
	shards [shardCount]*shard[F]
	// used is how many shards the prepared batch occupies.
	used      int
	batchSize int
	// dGates[l] and inputsT[l] collect every shard's gate gradients (one
	// row per step and sample) and transposed inputs of layer l, so each
	// kernel's gradient is one product over the whole batch, inputsᵀ·dgates.
	// inputsT[l] has a last row of ones, for which the product yields the
	// bias's gradient, the sum of the dgates rows: it follows the kernel's
	// in layerGrads[l], the part of grad for layer l.
	dGates, inputsT [][]F
	grad            []F
	grads           tensors[F]
	layerGrads      [][]F
	opt             *adam[F]
	// moments are the optimiser's m and v in the parameters' layout.
	moments [2]tensors[F]
	// shuffle orders the samples of each epoch.
	shuffle *rand.Rand
	// budget shares the cores with the other models of the process; the
	// parallel parts of a batch run on it (nil: each on its own goroutine).
	budget *compute.Budget
}

// newTrainer builds a network from seed and the workspaces to train it,
// whose parallel parts run on budget. The seed drives the initial weights
// and the shuffling on one stream and each shard's dropout on a stream of
// its own.
func newTrainer[F floating](a architecture, batchSize int, dropout, learningRate float64, seed int64, budget *compute.Budget) *trainer[F] {
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	net := newNetwork[F](a, rng)
	tr := &trainer[F]{
		net:       net,
		batchSize: batchSize,
		grad:      make([]F, len(net.params)),
		opt:       newAdam[F](len(net.params), learningRate),
		shuffle:   rng,
		budget:    budget,
	}
	tr.grads = split(a, tr.grad)
	tr.moments = [2]tensors[F]{split(a, tr.opt.m), split(a, tr.opt.v)}
	rows := a.window * batchSize
	tr.dGates = make([][]F, a.layers)
	tr.inputsT = make([][]F, a.layers)
	tr.layerGrads = make([][]F, a.layers)
	offset := 0
	for l := range a.layers {
		tr.dGates[l] = make([]F, rows*a.gates())
		tr.inputsT[l] = make([]F, (a.stepWidth(l)+1)*rows)
		size := (a.stepWidth(l) + 1) * a.gates()
		tr.layerGrads[l] = tr.grad[offset : offset+size]
		offset += size
	}
	capacity := (batchSize + shardCount - 1) / shardCount
	for i := range tr.shards {
		tr.shards[i] = newShard(net, capacity, dropout, rand.New(rand.NewPCG(uint64(seed), uint64(i+1))))
	}
	return tr
}

// prepare loads a mini-batch (indexes into windows and targets, at most
// batchSize of them) into the shards and draws its dropout masks.
func (tr *trainer[F]) prepare(batch []int, windows, targets []F) {
	per := (len(batch) + shardCount - 1) / shardCount
	tr.used = (len(batch) + per - 1) / per
	tr.budget.Do(tr.used, func(i int) {
		s := tr.shards[i]
		s.load(batch[i*per:min((i+1)*per, len(batch))], windows, targets)
		s.drawMasks()
	})
}

// inHalves runs work(0) and work(1) on the budget and waits: each takes its
// half (see half) of every layer's parameters. The halves share no
// parameter, so results do not depend on which goroutine runs which.
func (tr *trainer[F]) inHalves(work func(part int)) {
	tr.budget.Do(2, work)
}

// half returns the bounds of part 0 or 1 of the range [0, n).
func half(part, n int) (first, last int) {
	if part == 0 {
		return 0, n / 2
	}
	return n / 2, n
}

// gradient computes the prepared batch's mean-squared-error gradient into
// tr.grad and returns the batch's sum of squared errors.
func (tr *trainer[F]) gradient() float64 {
	a := tr.net.arch
	shards := tr.shards[:tr.used]
	total := 0
	for _, s := range shards {
		total += s.n
	}
	rows := a.window * total
	var sse [shardCount]float64
	var first [shardCount]int
	row := 0
	for i, s := range shards {
		first[i] = row
		row += a.window * s.n
	}
	tr.budget.Do(len(shards), func(i int) {
		s := shards[i]
		s.forward(true)
		sse[i] = s.backward(total, tr.dGates, tr.inputsT, first[i], rows)
	})

	// Each kernel's gradient is inputsᵀ·dgates over the whole batch, and
	// each bias's the sum of the dgates rows, which the row of ones under
	// the inputs adds to the product.
	g := a.gates()
	for l := range a.layers {
		ones := tr.inputsT[l][a.stepWidth(l)*rows : (a.stepWidth(l)+1)*rows]
		for r := range ones {
			ones[r] = 1
		}
	}
	tr.inHalves(func(part int) {
		for l := range a.layers {
			first, last := half(part, a.stepWidth(l)+1)
			tr.net.matmul(last-first, g, rows, tr.inputsT[l][first*rows:], rows, tr.dGates[l], g, tr.layerGrads[l][first*g:], g)
		}
	})
	// Sum in shard order, never in completion order.
	copy(tr.grads.denseW, shards[0].dDenseW)
	tr.grads.denseB[0] = shards[0].dDenseB
	sum := sse[0]
	for i, s := range shards[1:] {
		for j, v := range s.dDenseW {
			tr.grads.denseW[j] += v
		}
		tr.grads.denseB[0] += s.dDenseB
		sum += sse[i+1]
	}
	return sum
}

// fit trains for epochs passes over the samples and returns the last
// epoch's mean loss. windows holds one row of window values per sample.
func (tr *trainer[F]) fit(ctx context.Context, windows, targets []F, epochs int, progress forecast.ProgressFunc) (float64, error) {
	order := make([]int, len(targets))
	for i := range order {
		order[i] = i
	}
	var loss float64
	for epoch := 1; epoch <= epochs; epoch++ {
		tr.shuffle.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var sse float64
		for start := 0; start < len(order); start += tr.batchSize {
			if err := ctx.Err(); err != nil {
				return 0, fmt.Errorf("lstm: training stopped in epoch %d of %d: %w", epoch, epochs, err)
			}
			tr.prepare(order[start:min(start+tr.batchSize, len(order))], windows, targets)
			sse += tr.gradient()
			tr.update()
		}
		loss = sse / float64(len(order))
		if progress != nil {
			progress(forecast.Progress{Model: Name, Step: epoch, Total: epochs, Loss: loss})
		}
	}
	return loss, nil
}

// update takes an optimiser step with tr.grad and refreshes the
// transposed kernels, the two halves of the parameters as parts on the
// budget.
func (tr *trainer[F]) update() {
	a, p, grads := tr.net.arch, tr.net.p, tr.grads
	m, v := tr.moments[0], tr.moments[1]
	step := tr.opt.next()
	g := a.gates()
	tr.inHalves(func(part int) {
		for l := range a.layers {
			cols := a.stepWidth(l)
			first, last := half(part, cols)
			rows := func(t []F) []F { return t[first*g : last*g] }
			step.apply(rows(p.kernel[l]), rows(grads.kernel[l]), rows(m.kernel[l]), rows(v.kernel[l]))
			transpose(tr.net.kernelT[l][first:], cols, rows(p.kernel[l]), last-first, g, g)
			first, last = half(part, g)
			step.apply(p.bias[l][first:last], grads.bias[l][first:last], m.bias[l][first:last], v.bias[l][first:last])
		}
	})
	step.apply(p.denseW, grads.denseW, m.denseW, v.denseW)
	step.apply(p.denseB, grads.denseB, m.denseB, v.denseB)
}

// predict runs windows (one row of window values per sample) through the
// network without dropout and writes one output per sample.
func (tr *trainer[F]) predict(windows []F, outputs []F) {
	s := tr.shards[0]
	chunk := s.capacity * tr.net.arch.window
	for start := 0; start < len(windows); start += chunk {
		part := windows[start:min(start+chunk, len(windows))]
		s.loadWindows(part)
		s.forward(false)
		copy(outputs[start/tr.net.arch.window:], s.outputs[:s.n])
	}
}
