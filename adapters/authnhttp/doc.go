// Package authnhttp serves factor transactions (package authn) over
// net/http, in JSON and XML, in the wire format of api/openapi.yaml:
//
//	POST /authn/v1   an agent begins a transaction for a user
//	PUT  /authn/v1   it runs Init, Validate or Finalize on it
//
// Agents authenticate with HTTP Basic (or, on POST, clientInfo), checked
// by [Agents] ([StaticAgents]: fixed client IDs and secrets). This package
// words the transaction for the wire: statusInfo's status, code and
// message. Mount it alone with [Handler.Register] and [Handler.Strict], or
// with the other APIs through adapters/httpapi.
package authnhttp
