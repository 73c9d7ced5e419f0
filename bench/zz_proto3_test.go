package bench

import (
	"testing"
	"time"

	"github.com/xtunnel/xtunnel/loader"
)

func TestProtoLoadTime(t *testing.T) {
	for i := 0; i < 5; i++ {
		start := time.Now()
		o, err := loader.Load("")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("load %v", time.Since(start))
		start = time.Now()
		o.Close()
		t.Logf("close %v", time.Since(start))
	}
}
