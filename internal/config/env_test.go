package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnvironPrefersRealEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("CK_TEST_A=from-file\nCK_TEST_B=file-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CK_TEST_A", "from-env")
	getenv := Environ(path)
	if got := getenv("CK_TEST_A"); got != "from-env" {
		t.Errorf("CK_TEST_A = %q, want the real environment to win", got)
	}
	if got := getenv("CK_TEST_B"); got != "file-only" {
		t.Errorf("CK_TEST_B = %q, want the .env value", got)
	}
	if _, set := os.LookupEnv("CK_TEST_B"); set {
		t.Error(".env values must not be written into the process environment")
	}
	if got := Environ(filepath.Join(t.TempDir(), "missing"))("CK_TEST_B"); got != "" {
		t.Errorf("missing .env gave %q", got)
	}
}

// TestEnvExampleListsEveryVariable keeps .env.example honest: every variable
// Load reads is documented there, and nothing there is unknown to Load.
func TestEnvExampleListsEveryVariable(t *testing.T) {
	read := map[string]bool{}
	Load(func(k string) string { read[k] = true; return "" })
	b, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "=")
		listed[name] = true
	}
	for k := range read {
		if !listed[k] {
			t.Errorf("Load reads %s but .env.example does not list it", k)
		}
	}
	for k := range listed {
		if !read[k] {
			t.Errorf(".env.example lists %s but Load never reads it", k)
		}
	}
}
