//go:build tools

// Package tools pins the SPIRE binaries the tests build; it has no code of
// its own. See go.mod for why one dependency is replaced. The OIDC Discovery
// Provider (SPIRE's support/oidc-discovery-provider) serves a trust domain's
// JWT keys as an OpenID Connect issuer for the end-user token tests.
package tools

import (
	_ "github.com/spiffe/spire/cmd/spire-agent"
	_ "github.com/spiffe/spire/cmd/spire-server"
	_ "github.com/spiffe/spire/support/oidc-discovery-provider"
)
