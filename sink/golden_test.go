package sink

import "github.com/rivulet-cdc/rivulet/sink/internal/fixture"

// The tables, rows and golden-file helpers the sink's tests share with its
// formats' tests (sink/internal/fixture).
var (
	update        = fixture.Update
	compareJSON   = fixture.CompareJSON
	typesTable    = fixture.TypesTable
	typesRow      = fixture.TypesRow
	temporalTable = fixture.TemporalTable
	temporalRow   = fixture.TemporalRow
	noPK          = fixture.NoPK
	twoKeys       = fixture.TwoKeys
	customers     = fixture.Customers
	str           = fixture.Str
	benchEvents   = fixture.BenchEvents
	streamSource  = fixture.StreamSource
)
