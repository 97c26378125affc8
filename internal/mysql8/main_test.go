package mysql8

import (
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
