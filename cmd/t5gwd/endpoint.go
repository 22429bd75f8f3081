package main

import (
	"context"
	"net"
	"net/http"
	"time"
)

// endpoint is the HTTP listener of /metrics, /healthz and /readyz.
type endpoint struct {
	srv     *http.Server
	handler http.Handler
}

// listen serves handler on addr.
func listen(addr string, handler http.Handler) (*endpoint, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	e := &endpoint{srv: &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}, handler: handler}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// close stops serving; a nil endpoint is already closed.
func (e *endpoint) close() {
	if e == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = e.srv.Shutdown(ctx)
}

// moveMetrics serves the endpoints on addr instead ("" turns them off): the
// new listener first, so that a bad address leaves the old one serving.
func (d *daemon) moveMetrics(addr string) error {
	var next *endpoint
	if addr != "" {
		var err error
		if next, err = listen(addr, d.metrics.handler(d.ready)); err != nil {
			return err
		}
	}
	d.http.close()
	d.http = next
	return nil
}
