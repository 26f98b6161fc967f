// Package httpkit is what the HTTP packages (adapters/psd2http,
// authnhttp, questionshttp) share: strict request decoding, media-type
// negotiation, the guard that answers every error and panic in an API's
// envelope with an error ID, Allow headers computed from the routes,
// client addresses behind trusted proxies, and strict paths. It knows no
// flow.
package httpkit
