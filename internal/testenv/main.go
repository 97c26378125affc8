package testenv

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// Main is the body of a package's TestMain: it runs the tests, removes the
// Rivulet builds, stops every Kafka Connect worker, Apache Kafka cluster, schema
// registry and MariaDB server still running (the shared ones in particular), then fails
// the binary if goroutines leaked, and exits with the result.
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	removeBuilds()
	for _, stop := range []func() error{stopAllConnect, stopAllKafka, stopAllRegistries, stopAll} {
		if err := stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: goroutine leak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
