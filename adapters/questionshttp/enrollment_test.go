package questionshttp_test

import (
	"strings"
	"testing"
)

const (
	cityQ  = "com.soa.challenge.question.city.birth"
	colorQ = "com.soa.challenge.question.color"
	petQ   = "com.soa.challenge.question.pet"
	school = "com.soa.challenge.question.school"
)

// TestAkanaPutAddsOrUpdatesAndAnswersTheWholeSet: a PUT of one answer
// updates it, keeps the others, and answers the whole set in catalog
// order, echoing only the answer sent; in JSON and in XML.
func TestAkanaPutAddsOrUpdatesAndAnswersTheWholeSet(t *testing.T) {
	e := newAkanaEnv(t)
	path := "/api/users/" + akanaAlice + "/challenges"
	if r := e.send("PUT", path, "alice", akanaSample); r.status != 200 {
		t.Fatalf("enroll: %d %s", r.status, r.raw)
	}

	r := e.send("PUT", path, "alice", `{"UserIdentificationChallenge":[{"ChallengeCode":"`+colorQ+`","Answer":"Green"}]}`,
		"Content-Type", v72json, "Accept", v72json)
	want := `{"UserIdentificationChallenge":[{"UserID":"` + akanaAlice + `","ChallengeCode":"` + cityQ + `"},` +
		`{"UserID":"` + akanaAlice + `","ChallengeCode":"` + colorQ + `","Answer":"Green"},` +
		`{"UserID":"` + akanaAlice + `","ChallengeCode":"` + petQ + `"}]}`
	if r.status != 200 || r.contentType != v72json || mustCompact(t, r.raw) != mustCompact(t, want) {
		t.Fatalf("PUT of one answer: %d %s\n%s\nwant\n%s", r.status, r.contentType, r.raw, want)
	}

	// In XML, an answer added at the end of the catalog comes last; the
	// other entries carry no Answer element.
	r = e.send("PUT", path, "alice", `<UserIdentificationChallenges><UserIdentificationChallenge>`+
		`<ChallengeCode>`+school+`</ChallengeCode><Answer>Lincoln High</Answer></UserIdentificationChallenge></UserIdentificationChallenges>`,
		"Content-Type", "application/xml", "Accept", "application/xml")
	var set userSet
	e.decode(r, &set)
	if r.status != 200 || len(set.UserIdentificationChallenge) != 4 || strings.Count(r.raw, "<Answer>") != 1 ||
		set.UserIdentificationChallenge[3].ChallengeCode != school || set.UserIdentificationChallenge[3].Answer != "Lincoln High" ||
		set.UserIdentificationChallenge[1].ChallengeCode != colorQ || set.UserIdentificationChallenge[1].UserID != akanaAlice {
		t.Fatalf("PUT in XML: %d %s", r.status, r.raw)
	}

	// The GET lists the four, never an answer.
	r = e.send("GET", path, "alice", "")
	e.decode(r, &set)
	if r.status != 200 || len(set.UserIdentificationChallenge) != 4 || strings.Contains(r.raw, "Answer") {
		t.Fatalf("GET after the updates: %d %s", r.status, r.raw)
	}
}

func TestAkanaPutRulesApplyToTheResultingSet(t *testing.T) {
	e := newAkanaEnv(t)
	path := "/api/users/" + akanaAlice + "/challenges"

	// A first enrollment of one answer when three are required.
	one := `{"UserIdentificationChallenge":[{"ChallengeCode":"` + colorQ + `","Answer":"Green"}]}`
	e.wantError(e.send("PUT", path, "alice", one), 400, "UserIdentificationChallenge: must answer at least 3 different questions")
	r := e.send("PUT", path, "alice", `<UserIdentificationChallenges><UserIdentificationChallenge><ChallengeCode>`+colorQ+
		`</ChallengeCode><Answer>Green</Answer></UserIdentificationChallenge></UserIdentificationChallenges>`,
		"Content-Type", "application/xml", "Accept", "application/xml")
	if r.status != 400 || !strings.Contains(r.raw, "<Errors><Field>UserIdentificationChallenge</Field><Message>must answer at least 3 different questions</Message></Errors>") {
		t.Fatalf("the minimum, in XML: %d %s", r.status, r.raw)
	}

	// Enrolled, an update of one is taken; one equal to a kept answer is
	// refused, naming the kept question, and changes nothing.
	if r := e.send("PUT", path, "alice", akanaSample); r.status != 200 {
		t.Fatalf("enroll: %d %s", r.status, r.raw)
	}
	if r := e.send("PUT", path, "alice", one); r.status != 200 {
		t.Fatalf("update of one: %d %s", r.status, r.raw)
	}
	e.wantError(e.send("PUT", path, "alice", `{"UserIdentificationChallenge":[{"ChallengeCode":"`+school+`","Answer":"Lincoln"},
		{"ChallengeCode":"`+colorQ+`","Answer":"BUCKTASTIC"}]}`), 400,
		"UserIdentificationChallenge[1].Answer: must differ from the user's other answers")
	var set userSet
	e.decode(e.send("GET", path, "alice", ""), &set)
	if len(set.UserIdentificationChallenge) != 3 {
		t.Fatalf("a refused update stored some answers: %+v", set)
	}
}

// TestAkanaCatalogShowsEveryRule: the three rules are fields of each entry,
// shown where set, in JSON and XML; absent, there is no such rule.
func TestAkanaCatalogShowsEveryRule(t *testing.T) {
	e := newAkanaEnv(t)
	r := e.send("GET", "/api/businesses/acmepaymentscorp/challenges", "", "")
	var cat struct {
		Challenge []struct {
			ChallengeCode                                                   string
			CanContainQuestionWords, CanContainUserID, CanEqualOtherAnswers *bool
		}
	}
	e.decode(r, &cat)
	for _, q := range cat.Challenge {
		if q.CanContainQuestionWords == nil || *q.CanContainQuestionWords || q.CanContainUserID == nil || *q.CanContainUserID ||
			q.CanEqualOtherAnswers == nil || *q.CanEqualOtherAnswers {
			t.Fatalf("the catalog does not show %s's rules: %s", q.ChallengeCode, r.raw)
		}
	}
	r = e.send("GET", "/api/businesses/acmepaymentscorp/challenges", "", "", "Accept", "application/xml")
	if r.status != 200 || strings.Count(r.raw, "<CanContainQuestionWords>false</CanContainQuestionWords><CanContainUserID>false</CanContainUserID>"+
		"<CanEqualOtherAnswers>false</CanEqualOtherAnswers>") != 5 {
		t.Fatalf("the catalog in XML: %d %s", r.status, r.raw)
	}

	// Stored without them (here in XML), the rules are gone: an answer
	// repeating its question, and equal to another, is taken.
	relaxed := `<Challenges>
		<Challenge><ChallengeCode>a</ChallengeCode><ChallengeQuestion>What is your favorite color?</ChallengeQuestion><CanEqualOtherAnswers>true</CanEqualOtherAnswers></Challenge>
		<Challenge><ChallengeCode>b</ChallengeCode><ChallengeQuestion>What is your pet's name?</ChallengeQuestion></Challenge>
		<RequiredAnswerCount>2</RequiredAnswerCount></Challenges>`
	r = e.send("PUT", "/api/businesses/acmepaymentscorp/challenges", "admin", relaxed, "Content-Type", "application/xml", "Accept", "application/xml")
	if r.status != 200 || !strings.Contains(r.raw, "<CanEqualOtherAnswers>true</CanEqualOtherAnswers>") || strings.Contains(r.raw, "CanContainUserID") {
		t.Fatalf("catalog PUT in XML: %d %s", r.status, r.raw)
	}
	r = e.send("GET", "/api/businesses/acmepaymentscorp/challenges", "", "")
	if strings.Contains(r.raw, "CanContainQuestionWords") || !strings.Contains(r.raw, `"CanEqualOtherAnswers":true`) {
		t.Fatalf("the catalog after a PUT without the rules: %s", r.raw)
	}
	path := "/api/users/" + akanaAlice + "/challenges"
	if r := e.send("PUT", path, "alice", `{"UserIdentificationChallenge":[{"ChallengeCode":"a","Answer":"favorite color"},
		{"ChallengeCode":"b","Answer":"Favorite Color"}]}`); r.status != 200 {
		t.Fatalf("answers the catalog no longer refuses: %d %s", r.status, r.raw)
	}
}
