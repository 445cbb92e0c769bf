package lstm

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/augurhq/augur/internal/forecast"
)

// shardCount is how many parts each mini-batch is split into, each part's
// passes running on its own goroutine. It is a constant, not GOMAXPROCS, so
// that the summation order, and with it every result, is the same on every
// machine.
const shardCount = 2

// trainer runs mini-batch training of a network.
type trainer[F floating] struct {
	net    *network[F]
	shards [shardCount]*shard[F]
	// used is how many shards the prepared batch occupies.
	used      int
	batchSize int
	// gatesT[l] and inputsT[l] collect every shard's transposed gate
	// gradients and inputs of layer l, side by side, so each kernel's
	// gradient is one product over the whole batch.
	gatesT, inputsT [][]F
	grad            []F
	grads           tensors[F]
	opt             *adam[F]
	// moments are the optimiser's m and v in the parameters' layout.
	moments [2]tensors[F]
	// shuffle orders the samples of each epoch.
	shuffle *rand.Rand
}

// newTrainer builds a network from seed and the workspaces to train it. The
// seed drives the initial weights and the shuffling on one stream and each
// shard's dropout on a stream of its own.
func newTrainer[F floating](a architecture, batchSize int, dropout, learningRate float64, seed int64) *trainer[F] {
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	net := newNetwork[F](a, rng)
	tr := &trainer[F]{
		net:       net,
		batchSize: batchSize,
		grad:      make([]F, len(net.params)),
		opt:       newAdam[F](len(net.params), learningRate),
		shuffle:   rng,
	}
	tr.grads = split(a, tr.grad)
	tr.moments = [2]tensors[F]{split(a, tr.opt.m), split(a, tr.opt.v)}
	columns := a.window * batchSize
	tr.gatesT = make([][]F, a.layers)
	tr.inputsT = make([][]F, a.layers)
	for l := range a.layers {
		tr.gatesT[l] = make([]F, a.gates()*columns)
		tr.inputsT[l] = make([]F, a.kernelCols(l)*columns)
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
	tr.used = 0
	var wg sync.WaitGroup
	for start := 0; start < len(batch); start += per {
		s := tr.shards[tr.used]
		part := batch[start:min(start+per, len(batch))]
		wg.Go(func() {
			s.load(part, windows, targets)
			s.drawMasks()
		})
		tr.used++
	}
	wg.Wait()
}

// byGateHalves runs work on two goroutines, one for the rows of gates i and f
// and one for the rows of gates g and o of every layer's kernel, and waits.
// The halves share no parameter, so results do not depend on scheduling.
func (tr *trainer[F]) byGateHalves(work func(first, last int)) {
	half := tr.net.arch.gates() / 2
	var wg sync.WaitGroup
	wg.Go(func() { work(0, half) })
	wg.Go(func() { work(half, 2*half) })
	wg.Wait()
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
	columns := a.window * total
	var sse [shardCount]float64
	var wg sync.WaitGroup
	column := 0
	for i, s := range shards {
		first := column
		wg.Go(func() {
			s.forward(true)
			sse[i] = s.backward(total, tr.gatesT, tr.inputsT, first, columns)
		})
		column += a.window * s.n
	}
	wg.Wait()

	// The kernel gradients, one gate's rows per product: a product of
	// more rows would make gonum fan out to goroutines of its own, less
	// evenly than the halves do.
	tr.byGateHalves(func(first, last int) {
		h := a.units
		for l := range a.layers {
			cols := a.kernelCols(l)
			for row := first; row < last; row += h {
				tr.net.gemm.abt(h, cols, columns, tr.gatesT[l][row*columns:], columns, tr.inputsT[l], columns,
					0, tr.grads.kernel[l][row*cols:], cols)
			}
			for j := first; j < last; j++ {
				var sum F
				for _, v := range tr.gatesT[l][j*columns : (j+1)*columns] {
					sum += v
				}
				tr.grads.bias[l][j] = sum
			}
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
			progress(forecast.Progress{Model: Model, Step: epoch, Total: epochs, Loss: loss})
		}
	}
	return loss, nil
}

// update takes an optimiser step with tr.grad and refreshes the
// transposed kernels, each half of the gates on its own goroutine.
func (tr *trainer[F]) update() {
	a, p, g := tr.net.arch, tr.net.p, tr.grads
	m, v := tr.moments[0], tr.moments[1]
	step := tr.opt.next()
	tr.byGateHalves(func(first, last int) {
		for l := range a.layers {
			cols := a.kernelCols(l)
			rows := func(t []F) []F { return t[first*cols : last*cols] }
			step.apply(rows(p.kernel[l]), rows(g.kernel[l]), rows(m.kernel[l]), rows(v.kernel[l]))
			step.apply(p.bias[l][first:last], g.bias[l][first:last], m.bias[l][first:last], v.bias[l][first:last])
			transpose(tr.net.kernelT[l][first:], a.gates(), rows(p.kernel[l]), last-first, cols, cols)
		}
	})
	step.apply(p.denseW, g.denseW, m.denseW, v.denseW)
	step.apply(p.denseB, g.denseB, m.denseB, v.denseB)
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
