package lstm

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/augurhq/augur/internal/forecast"
)

// WeightStore keeps trained networks, so that a run on the same training
// data with the same configuration skips training, by far the longest part
// of a run. The worker's store is PostgreSQL.
type WeightStore interface {
	// LoadWeights returns what SaveWeights stored under key, or nil and no
	// error when nothing is.
	LoadWeights(ctx context.Context, key []byte) ([]byte, error)
	// SaveWeights stores blob under key, replacing what was there.
	SaveWeights(ctx context.Context, key, blob []byte) error
}

// weightsVersion changes with anything that makes the same key train a
// different network: the architecture's layout of the parameters, the
// initialisation, the optimiser.
const weightsVersion = 1

// weightsKey fingerprints a training: every configuration field that
// changes the trained network, and the training data itself as the
// network sees it (scaled windows and targets), so a revised history, a
// different lookback or another scaling is another key.
func weightsKey(cfg Config, mode string, windows, targets []float32) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "lstm/%d layers=%d units=%d window=%d epochs=%d batch=%d dropout=%g lr=%g seed=%d mode=%s\n",
		weightsVersion, cfg.Layers, cfg.Units, cfg.Window, cfg.Epochs, cfg.BatchSize, cfg.Dropout, cfg.LearningRate, cfg.Seed, mode)
	_ = binary.Write(h, binary.LittleEndian, windows) // a hash.Hash never fails a write
	_ = binary.Write(h, binary.LittleEndian, targets)
	return h.Sum(nil)
}

// encodeWeights lays out the final training loss and the parameters, both
// little-endian: what a later run needs to predict as this one does.
func encodeWeights(loss float64, params []float32) []byte {
	blob := make([]byte, 8+4*len(params))
	binary.LittleEndian.PutUint64(blob, math.Float64bits(loss))
	for i, p := range params {
		binary.LittleEndian.PutUint32(blob[8+4*i:], math.Float32bits(p))
	}
	return blob
}

// decodeWeights reads encodeWeights' layout into params, refusing a blob
// whose size does not fit them.
func decodeWeights(blob []byte, params []float32) (loss float64, ok bool) {
	if len(blob) != 8+4*len(params) {
		return 0, false
	}
	loss = math.Float64frombits(binary.LittleEndian.Uint64(blob))
	for i := range params {
		params[i] = math.Float32frombits(binary.LittleEndian.Uint32(blob[8+4*i:]))
	}
	return loss, true
}

// trainOrLoad gives tr a trained network: the stored one for key when
// weights has it, else one trained now, which is then stored. A store that
// cannot be read or written costs a training, never the run: weights are
// a cache.
func trainOrLoad(ctx context.Context, tr *trainer[float32], weights WeightStore, key []byte,
	windows, targets []float32, epochs int, progress forecast.ProgressFunc) (loss float64, cached bool, err error) {
	if weights != nil {
		if blob, err := weights.LoadWeights(ctx, key); err == nil && blob != nil {
			if loss, ok := decodeWeights(blob, tr.net.params); ok {
				tr.net.syncTransposed()
				if progress != nil {
					progress(forecast.Progress{Model: Name, Step: epochs, Total: epochs, Loss: loss})
				}
				return loss, true, nil
			}
		}
	}
	loss, err = tr.fit(ctx, windows, targets, epochs, progress)
	if err != nil {
		return 0, false, err
	}
	if weights != nil && !math.IsNaN(loss) && !math.IsInf(loss, 0) {
		_ = weights.SaveWeights(ctx, key, encodeWeights(loss, tr.net.params))
	}
	return loss, false, nil
}
