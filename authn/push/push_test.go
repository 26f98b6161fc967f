package push_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/challengekit/challengekit/authn"
	"github.com/challengekit/challengekit/authn/factortest"
	"github.com/challengekit/challengekit/authn/push"
)

type counter struct{ n atomic.Int64 }

func (c *counter) Notify(context.Context, string, authn.Registration, string) error {
	c.n.Add(1)
	return nil
}

func TestFactorConforms(t *testing.T) {
	factortest.Run(t, func(t *testing.T, cfg factortest.Config) factortest.Subject {
		c := &counter{}
		f, err := push.New(c)
		if err != nil {
			t.Fatal(err)
		}
		return factortest.Subject{Factor: f, Delivered: func() int { return int(c.n.Load()) }}
	})
}
