package lstm

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/augurhq/augur/internal/forecast"
	"github.com/augurhq/augur/internal/forecast/forecasttest"
)

// memoryWeights is a WeightStore in a map, counting what it is asked.
type memoryWeights struct {
	mu           sync.Mutex
	blobs        map[string][]byte
	loads, saves int
}

func (m *memoryWeights) LoadWeights(_ context.Context, key []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	return m.blobs[string(key)], nil
}

func (m *memoryWeights) SaveWeights(_ context.Context, key, blob []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	m.blobs[string(key)] = blob
	return nil
}

// A second run on the same data and configuration takes the stored network
// and predicts exactly what the trained one did, without an epoch of
// training; another seed or other data trains again.
func TestStoredWeightsSkipTraining(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	cfg := smallConfig(ModeWindow)
	store := &memoryWeights{blobs: map[string][]byte{}}
	ctx := context.Background()

	trained, err := RunWithWeights(ctx, closes, cfg, 3, nil, store)
	require.NoError(t, err)
	require.Equal(t, false, trained.Params["weights_cached"])
	require.False(t, WeightsCached(trained))
	require.Equal(t, 1, store.saves)

	var epochs []forecast.Progress
	cached, err := RunWithWeights(ctx, closes, cfg, 3, func(p forecast.Progress) { epochs = append(epochs, p) }, store)
	require.NoError(t, err)
	require.Equal(t, true, cached.Params["weights_cached"])
	require.True(t, WeightsCached(cached))
	require.Equal(t, 1, store.saves, "nothing trained, nothing saved")
	require.Equal(t, []forecast.Progress{{Model: Name, Step: cfg.Epochs, Total: cfg.Epochs, Loss: trained.Params["final_loss"].(float64)}}, epochs,
		"one report that the training is done, not one per epoch")
	require.Equal(t, trained.Test, cached.Test)
	require.Equal(t, trained.Forecast, cached.Forecast)
	require.Equal(t, trained.Params["final_loss"], cached.Params["final_loss"])

	cfg.Seed++
	reseeded, err := RunWithWeights(ctx, closes, cfg, 3, nil, store)
	require.NoError(t, err)
	require.Equal(t, false, reseeded.Params["weights_cached"])
	require.False(t, WeightsCached(reseeded))
	cfg.Seed--
	shorter, err := RunWithWeights(ctx, closes[1:], cfg, 3, nil, store)
	require.NoError(t, err)
	require.Equal(t, false, shorter.Params["weights_cached"], "other data is another network")
	require.False(t, WeightsCached(shorter))
	require.Equal(t, 3, store.saves)
}

// A stored blob that does not fit the network (another architecture under
// a colliding key, or a truncated row) is trained over, not trusted.
func TestMisfitWeightsAreTrainedOver(t *testing.T) {
	closes := forecasttest.Closes(t, "gspc_last504.csv")
	cfg := smallConfig(ModeWindow)
	store := &memoryWeights{blobs: map[string][]byte{}}
	ctx := context.Background()
	_, err := RunWithWeights(ctx, closes, cfg, 3, nil, store)
	require.NoError(t, err)
	for k, blob := range store.blobs {
		store.blobs[k] = blob[:len(blob)-4]
	}
	again, err := RunWithWeights(ctx, closes, cfg, 3, nil, store)
	require.NoError(t, err)
	require.Equal(t, false, again.Params["weights_cached"])
	require.False(t, WeightsCached(again))
}
