-- +goose Up
-- Trained LSTM networks, so that a run on the same training data with the
-- same configuration skips training. key is the SHA-256 fingerprint of
-- both (internal/forecast/lstm.weightsKey); weights is the final loss and
-- the parameters, about 70 kB for the default 4×50 network. Retention
-- drops networks unused for 90 days.
CREATE TABLE model_weights (
    key          bytea PRIMARY KEY,
    model        text NOT NULL,
    weights      bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE model_weights;
