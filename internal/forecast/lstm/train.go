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
	for start := 0; start < len(batch); start += per {
		s := tr.shards[tr.used]
		s.load(batch[start:min(start+per, len(batch))], windows, targets)
		s.drawMasks()
		tr.used++
	}
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

	for l := range a.layers {
		cols := a.kernelCols(l)
		tr.net.gemm.abt(a.gates(), cols, columns, tr.gatesT[l], columns, tr.inputsT[l], columns, 0, tr.grads.kernel[l], cols)
		for j := range tr.grads.bias[l] {
			var sum F
			for _, v := range tr.gatesT[l][j*columns : (j+1)*columns] {
				sum += v
			}
			tr.grads.bias[l][j] = sum
		}
	}
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
			tr.opt.update(tr.net.params, tr.grad)
			tr.net.syncTransposed()
		}
		loss = sse / float64(len(order))
		if progress != nil {
			progress(forecast.Progress{Model: Model, Step: epoch, Total: epochs, Loss: loss})
		}
	}
	return loss, nil
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
