package ets

import (
	"fmt"
	"strings"
)

// Trend is the trend component of a model.
type Trend int

// The trends ets fits.
const (
	// NoTrend has a level only.
	NoTrend Trend = iota
	// AdditiveTrend adds a slope that changes with the data.
	AdditiveTrend
	// DampedTrend is an additive slope that fades by φ at every step.
	DampedTrend
)

// Spec is one non-seasonal ETS model: its error and trend components.
type Spec struct {
	// Multiplicative errors are proportional to the forecast; otherwise
	// they are additive.
	Multiplicative bool
	Trend          Trend
}

// Specs is R's default automatic candidate set for a non-seasonal series
// in the order R tries them (error A then M; trend N then A; damped before
// undamped), which also breaks ties as R does: the first best stays.
func Specs() []Spec {
	var out []Spec
	for _, mult := range []bool{false, true} {
		for _, t := range []Trend{NoTrend, DampedTrend, AdditiveTrend} {
			out = append(out, Spec{Multiplicative: mult, Trend: t})
		}
	}
	return out
}

// String is R's name for the model, as "ETS(A,Ad,N)".
func (s Spec) String() string {
	return "ETS(" + s.code(",") + "N)"
}

// Code is the short name ParseSpec reads, as "AAdN".
func (s Spec) Code() string { return s.code("") + "N" }

func (s Spec) code(sep string) string {
	e := "A"
	if s.Multiplicative {
		e = "M"
	}
	t := [...]string{"N", "A", "Ad"}[s.Trend]
	return e + sep + t + sep
}

// ParseSpec reads a model's short name as R's ets(model = …) takes it, with
// the damped trend written "Ad": ANN, AAN, AAdN, MNN, MAN or MAdN.
func ParseSpec(code string) (Spec, error) {
	for _, s := range Specs() {
		if strings.EqualFold(code, s.Code()) {
			return s, nil
		}
	}
	names := make([]string, 0, 6)
	for _, s := range Specs() {
		names = append(names, s.Code())
	}
	return Spec{}, fmt.Errorf("ets: unknown model %q: choose from %s", code, strings.Join(names, ", "))
}
