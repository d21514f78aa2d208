// Package connectproxy stands in for the HTTP CONNECT dialer ghostunnel
// registers for its client-mode --proxy flag. The benchmark build has no
// CONNECT proxy support: asking for one is an error, never a direct dial.
package connectproxy

import (
	"errors"
	"net/url"

	"golang.org/x/net/proxy"
)

// errNotBuilt is returned for every http:// proxy URL.
var errNotBuilt = errors.New("connect-proxy-stub: HTTP CONNECT proxies are not supported by this benchmark build of ghostunnel")

// ConnectProxy has the signature proxy.RegisterDialerType expects and
// always fails, so a --proxy http://... flag is refused rather than ignored.
func ConnectProxy(_ *url.URL, _ proxy.Dialer) (proxy.Dialer, error) {
	return nil, errNotBuilt
}
