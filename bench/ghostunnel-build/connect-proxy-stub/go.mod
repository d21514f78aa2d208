// Stand-in for github.com/wrouesnel/go.connect-proxy-scheme, whose pinned
// version the module proxy here refuses; see ../go.mod.
module github.com/wrouesnel/go.connect-proxy-scheme

go 1.25.1

require golang.org/x/net v0.55.0
