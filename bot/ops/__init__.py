"""Running loginbot as a service: health and readiness checks, Prometheus metrics."""
