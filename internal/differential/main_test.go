package differential

import (
	"testing"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
