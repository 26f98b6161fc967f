package metrics

import (
	"context"

	"github.com/challengekit/challengekit/challenge"
)

// Observe counts one saved change: a transition (or a creation, from
// "none") by kind, event, states; a failed attempt and a lock by kind; and
// the step's duration by kind. It makes Metrics a [challenge.Observer];
// set it as [challenge.EngineOptions].Observer. Kinds, events and states
// are the flows' constants; the change's ID and reason are never used.
func (m *Metrics) Observe(_ context.Context, c challenge.Change) {
	kind := orNone(c.Kind)
	if c.Event != "" || c.From == "" {
		m.transitions.WithLabelValues(kind, orNone(string(c.Event)), orNone(string(c.From)), orNone(string(c.To))).Inc()
	}
	if c.Failed {
		m.failed.WithLabelValues(kind).Inc()
		if c.Event != "" {
			m.locks.WithLabelValues(kind).Inc()
		}
	}
	m.steps.WithLabelValues(kind).Observe(c.Duration.Seconds())
}
