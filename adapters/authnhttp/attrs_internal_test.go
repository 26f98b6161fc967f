package authnhttp

import (
	"encoding/json"
	"testing"

	"github.com/challengekit/challengekit/authn"
)

// TestNestGathersAnObjectsMembersWhereverTheyStand checks how attribute
// pairs are answered: "name.member" pairs become one object where the
// first stands, and a key that is not name.member (a question code with
// several dots, a leading dot) stays a string.
func TestNestGathersAnObjectsMembersWhereverTheyStand(t *testing.T) {
	got, err := json.Marshal(nest([]authn.KeyValue{
		{Key: "device.os", Value: "ios"}, {Key: "deviceName", Value: "Phone"}, {Key: "device.app", Value: "A"},
		{Key: "com.soa.question", Value: "x"}, {Key: ".hidden", Value: "y"}, {Key: "a.b c", Value: "z"},
	}))
	const want = `[{"key":"device","value":{"os":"ios","app":"A"}},{"key":"deviceName","value":"Phone"},` +
		`{"key":"com.soa.question","value":"x"},{"key":".hidden","value":"y"},{"key":"a.b c","value":"z"}]`
	if err != nil || string(got) != want {
		t.Fatalf("nest: %s, %v\nwant %s", got, err, want)
	}
	// Prompts are never nested: a question code "q.pet" is a key.
	if got, _ := json.Marshal(plain([]authn.KeyValue{{Key: "q.pet", Value: "Your pet?"}})); string(got) != `[{"key":"q.pet","value":"Your pet?"}]` {
		t.Errorf("plain: %s", got)
	}
}
