package loader

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

type btfEnum = btf.Enum

func findEnum(spec *ebpf.CollectionSpec, name string) (*btf.Enum, error) {
	var e *btf.Enum
	if err := spec.Types.TypeByName(name, &e); err != nil {
		return nil, fmt.Errorf("enum %s not in BTF: %w", name, err)
	}
	return e, nil
}

func reasonName(c string) string {
	return strings.ToLower(strings.TrimPrefix(c, "XT_R_"))
}
