//go:build tools

// Package tools pins the SPIRE binaries the tests build; it has no code of
// its own. See go.mod for why one dependency is replaced.
package tools

import (
	_ "github.com/spiffe/spire/cmd/spire-agent"
	_ "github.com/spiffe/spire/cmd/spire-server"
)
