//go:build tools

// Package tools pins the ghostunnel binary `make bench` builds; it has no
// code of its own. See go.mod for the pinned version and the one replace.
package tools

import (
	_ "github.com/ghostunnel/ghostunnel"
)
