// Package totpsteps gives benchmarks the TOTP codes of consecutive
// 30-second steps, computed with the benchmark's timer stopped: a login
// per step, each with a code no earlier login has used.
package totpsteps

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// batch is how many codes Code computes at once, off the clock.
const batch = 4096

// Steps are the codes of Secret for the 30-second steps from Start on.
type Steps struct {
	Secret string
	Start  time.Time
	codes  []string
}

// Code returns the code of step i. Steps are asked for in order, from 0:
// when i reaches the end of the codes computed, Code computes the next
// batch with b's timer stopped.
func (s *Steps) Code(b *testing.B, i int) string {
	if i >= len(s.codes) {
		b.StopTimer()
		for j := len(s.codes); j < i+batch; j++ {
			code, err := totp.GenerateCode(s.Secret, s.Start.Add(time.Duration(j)*30*time.Second))
			if err != nil {
				b.Fatal(err)
			}
			s.codes = append(s.codes, code)
		}
		b.StartTimer()
	}
	return s.codes[i]
}
