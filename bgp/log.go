package bgp

import (
	"context"
	"log/slog"
)

// engineLogger is the logger handed to GoBGP. GoBGP logs every peer
// configuration step at info; t5gw logs session changes itself, so GoBGP's
// records pass only from warn up, unless t5gw runs at debug. It asks log's
// handler each time, so a new log level reaches GoBGP at once.
func engineLogger(log *slog.Logger) *slog.Logger {
	return slog.New(engineHandler{Handler: log.Handler()})
}

// engineHandler drops GoBGP's records below warn unless debug is on.
type engineHandler struct{ slog.Handler }

func (h engineHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.Handler.Enabled(ctx, l) && (l >= slog.LevelWarn || h.Handler.Enabled(ctx, slog.LevelDebug))
}

func (h engineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return engineHandler{Handler: h.Handler.WithAttrs(attrs)}
}

func (h engineHandler) WithGroup(name string) slog.Handler {
	return engineHandler{Handler: h.Handler.WithGroup(name)}
}
