// Package gatewayconformance is the Gateway API conformance suite as a test binary: the
// upstream runner, unchanged, built by e2e/build-gateway-conformance.sh (`go test -c`) and
// driven by e2e/gateway.py, which passes the suite's own flags (-gateway-class,
// -conformance-profiles, -supported-features, -report-output, -run-test, ...).
package gatewayconformance

import (
	"testing"

	"sigs.k8s.io/gateway-api/conformance"
)

func TestConformance(t *testing.T) {
	conformance.RunConformance(t)
}
