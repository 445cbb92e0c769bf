package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/augurhq/augur/internal/sentiment"
	"github.com/augurhq/augur/internal/store"
)

func (w *Worker) analyzeSentiment(ctx context.Context, job *store.Job, progress *progressReporter) (any, error) {
	var params SentimentParams
	if err := json.Unmarshal(job.Params, &params); err != nil {
		return nil, permanent(fmt.Errorf("decode job parameters: %w", err))
	}
	if len(params.Texts) > 0 {
		report := sentiment.ScoreTexts(params.Texts)
		report.Ticker = job.Ticker
		return report, nil
	}
	progress.report(ctx, 5, ProgressDetail{Stage: "sentiment", Message: "Reading the news for " + job.Ticker})
	report, err := w.Sentiment.Analyze(ctx, sentiment.Request{
		Ticker: job.Ticker, Preset: params.Preset, NumArticles: params.NumArticles,
	})
	if errors.Is(err, sentiment.ErrNoArticles) {
		// Every source failed or had nothing: say so plainly, with each
		// source's status in the result, rather than invent a score.
		return report, permanent(err)
	}
	if err != nil {
		return report, err
	}
	return report, nil
}
