// Package psd2http serves a bank's PSD2 consent challenge (package psd2)
// over net/http, in the wire format of api/openapi.yaml:
//
//	POST  /v1/psd2/challenges                                    the bank creates a challenge
//	GET   /v1/psd2/challenges/{psd2_challenge_id}                a partner verifies it
//	PATCH /v1/psd2/challenges/{psd2_challenge_id}                a partner reports who logged in
//	POST  /v1/psd2/challenges/{psd2_challenge_id}/second_factor  the bank reports the second factor
//
// Callers are told apart by an [Authenticator] ([Tokens]: bearer tokens):
// the bank, and partners, each a tenant that sees only its own customers'
// challenges. Errors are answered in the Solaris envelope, flat or
// wrapped ([Options].WrappedErrors). Mount it alone with
// [Handler.Register] and [Handler.Strict], or with the other APIs through
// adapters/httpapi.
package psd2http
