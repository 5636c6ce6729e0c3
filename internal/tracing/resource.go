package tracing

import (
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

func resource(service string) *sdkresource.Resource {
	return sdkresource.NewSchemaless(semconv.ServiceName(service))
}
