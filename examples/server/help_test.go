package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestHelpListsEveryFlagAsREADMEDoes checks that -h answers on stdout
// with exit status 0 (run returns nil), listing every flag with its
// environment variable and default, and that README's table of flags says
// the same: a flag added to one and not the other fails here.
func TestHelpListsEveryFlagAsREADMEDoes(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &stdout, &stderr, nil); err != nil {
		t.Fatalf("-h: %v", err)
	}
	if stderr.Len() != 0 {
		t.Errorf("-h wrote to stderr: %s", stderr.String())
	}
	help := map[string]string{} // flag → "VARIABLE default"
	for _, m := range regexp.MustCompile(`(?m)^  -(\S+)  \((CHALLENGEKIT_\S+); default (.*)\)\n        \S`).FindAllStringSubmatch(stdout.String(), -1) {
		if want := envName(m[1]); m[2] != want {
			t.Errorf("-%s: variable %s, want %s", m[1], m[2], want)
		}
		help[m[1]] = m[2] + " " + m[3]
	}
	if len(help) < 20 {
		t.Fatalf("-h lists %d flags:\n%s", len(help), stdout.String())
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "<!-- flags: kept equal to -h by TestHelpListsEveryFlagAsREADMEDoes -->")
	if !ok {
		t.Fatal("README.md has no table of flags")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	documented := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `-(\\S+)` \\| `(\\S+)` \\| (?:`([^`]*)`|none) \\|").FindAllStringSubmatch(table, -1) {
		def := m[3]
		if def == "" {
			def = "none"
		}
		documented[m[1]] = m[2] + " " + def
	}
	for name, want := range help {
		if documented[name] != want {
			t.Errorf("README's -%s: %q; -h says %q", name, documented[name], want)
		}
	}
	for name := range documented {
		if _, ok := help[name]; !ok {
			t.Errorf("README documents -%s, which the server does not have", name)
		}
	}
}

// TestABadFlagNamesItselfOnce: a flag the server does not know stops it
// with one message that names the flag and points at -h.
func TestABadFlagNamesItselfOnce(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-nope"}, func(string) string { return "" }, &stdout, &stderr, nil)
	if err == nil || !strings.Contains(err.Error(), "-nope") || !strings.Contains(err.Error(), "-h lists every flag") || stderr.Len() != 0 {
		t.Fatalf("err %v, stderr %q", err, stderr.String())
	}
}
