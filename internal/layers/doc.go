// Package layers holds the test that keeps the module's layers apart:
// which of its packages may import which (docs/architecture.md draws
// them). It has no code of its own.
package layers
