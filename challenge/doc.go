// Package challenge is the core of challengekit: it models every
// authentication challenge as a finite-state machine whose state lives in a
// pluggable [Store], so that a fleet of stateless servers can share it.
//
// The pieces, from the bottom up:
//
//   - [Record] is the stored form of one challenge; [Store] keeps records with
//     compare-and-set updates on [Record.Version]. [MemoryStore] is the
//     embedded default and the reference implementation; every other store
//     must pass the conformance suite in package challenge/storetest.
//   - [Machine] is a named transition table built on github.com/looplab/fsm.
//   - [Engine] runs one request against one record: load, lazily expire,
//     let the flow decide and fire events through a [Tx], save with
//     compare-and-set, then log the change and hand it to an [Observer].
//     A caller that only reads a record, to decode its Data, uses
//     [Engine.View] (or [Records.View]): the store lends the record, as a
//     [Viewer] does, instead of copying it.
//
// Flow packages (psd2, authn, questions) build their services on an Engine
// and never touch a Store directly.
package challenge
