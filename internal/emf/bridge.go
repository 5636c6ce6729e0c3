package emf

import (
	"context"
	"log/slog"
)

// EnvBridge names the bridge a component belongs to (ZEEBE_BRIDGE_NAME, set
// by the Terraform modules to <name_prefix>zeebe-bridge). With it, every
// metric also has the dimension BridgeDimension, so that the metrics of
// several bridges in one account do not mix.
const EnvBridge = "ZEEBE_BRIDGE_NAME"

// BridgeDimension is the dimension that carries the bridge's name.
const BridgeDimension = "Bridge"

// WithBridge returns a handler that adds the bridge's name to every EMF line
// next handles, as a field and as a dimension of each of the line's
// dimension sets; other lines pass unchanged. The components' loggers are
// built with it, so no log call names the bridge itself.
func WithBridge(next slog.Handler, bridge string) slog.Handler {
	return bridgeHandler{next: next, bridge: bridge}
}

type bridgeHandler struct {
	next   slog.Handler
	bridge string
}

func (h bridgeHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h bridgeHandler) Handle(ctx context.Context, r slog.Record) error {
	emf := false
	r.Attrs(func(a slog.Attr) bool {
		_, emf = a.Value.Any().(directive)
		return !emf
	})
	if !emf {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if d, ok := a.Value.Any().(directive); ok {
			a = slog.Any(a.Key, d.withDimension(BridgeDimension))
		}
		out.AddAttrs(a)
		return true
	})
	out.AddAttrs(slog.String(BridgeDimension, h.bridge))
	return h.next.Handle(ctx, out)
}

func (h bridgeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return bridgeHandler{next: h.next.WithAttrs(as), bridge: h.bridge}
}

func (h bridgeHandler) WithGroup(name string) slog.Handler {
	return bridgeHandler{next: h.next.WithGroup(name), bridge: h.bridge}
}

// withDimension returns d with dim first in each dimension set.
func (d directive) withDimension(dim string) directive {
	out := d
	out.CloudWatchMetrics = make([]metricDirective, len(d.CloudWatchMetrics))
	for i, md := range d.CloudWatchMetrics {
		sets := make([][]string, len(md.Dimensions))
		for j, set := range md.Dimensions {
			sets[j] = append([]string{dim}, set...)
		}
		md.Dimensions = sets
		out.CloudWatchMetrics[i] = md
	}
	return out
}
