package loader

import (
	"os"
	"testing"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to load BPF programs")
	}
}

func TestLoad(t *testing.T) {
	requireRoot(t)
	objs, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	defer objs.Close()
	names, err := ReasonNames()
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		if n == "" {
			t.Errorf("reason %d has no name in BTF", i)
		}
	}
	if names[0] != "pass_not_ip" {
		t.Errorf("reason 0 = %q, want pass_not_ip", names[0])
	}
}
