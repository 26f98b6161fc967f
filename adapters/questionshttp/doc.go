// Package questionshttp serves security questions (package questions)
// over net/http, in JSON, XML and the original platform's versioned media
// types, in the wire format of api/openapi.yaml:
//
//	GET|PUT /api/businesses/{BusinessID}/challenges   a business's catalog
//	GET|PUT /api/users/{UserID}/challenges            a user's questions and answers
//
// A PUT of a user's answers adds or updates those it sends and keeps the
// others; it answers the user's whole set. Every rule that can refuse an
// answer is a field of the catalog's entries.
//
// Callers are logged-in users told apart by an [Authenticator]
// ([CookieSessions]: the platform's session cookie and CSRF header); a
// site admin acts for the users of its own business. Behind a reverse
// proxy, [ClientAddress] says which header names the end user's address.
// Mount it alone with [Handler.Register] and [Handler.Strict], or with the
// other APIs through adapters/httpapi.
package questionshttp
