package engine_test

import "github.com/augurhq/augur/internal/forecast/engine"

// fastModels are the models cheap enough to run in every unit test.
func fastModels() []string {
	return []string{engine.NameLinearRegression, engine.NamePersistence, engine.NameDrift}
}
