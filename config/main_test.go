package config_test

import (
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// TestMain stops the MariaDB servers of the connection tests and checks
// for leaked goroutines.
func TestMain(m *testing.M) { testenv.Main(m) }
