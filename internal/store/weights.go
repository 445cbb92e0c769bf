package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ModelWeights keeps one model's trained weights in PostgreSQL, by key. It
// is an lstm.WeightStore.
type ModelWeights struct {
	db    *DB
	model string
}

// Weights returns the store of model's trained weights.
func (db *DB) Weights(model string) ModelWeights { return ModelWeights{db: db, model: model} }

// LoadWeights returns the weights stored under key, or nil. A load counts
// as a use, which retention looks at.
func (w ModelWeights) LoadWeights(ctx context.Context, key []byte) ([]byte, error) {
	var blob []byte
	err := w.db.get(ctx, &blob, `UPDATE model_weights SET last_used_at = now()
		WHERE key = $1 AND model = $2 RETURNING weights`, key, w.model)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load %s weights: %w", w.model, err)
	}
	return blob, nil
}

// SaveWeights stores blob under key, replacing what was there.
func (w ModelWeights) SaveWeights(ctx context.Context, key, blob []byte) error {
	_, err := w.db.exec(ctx, `INSERT INTO model_weights (key, model, weights) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET model = excluded.model, weights = excluded.weights,
			created_at = now(), last_used_at = now()`, key, w.model, blob)
	if err != nil {
		return fmt.Errorf("save %s weights: %w", w.model, err)
	}
	return nil
}
