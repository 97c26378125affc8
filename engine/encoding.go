package engine

import (
	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/sink"
)

// encodingModes hands the value rendering keys (config.Encoding) to the
// encoder: the four handling modes and the source type propagation rules.
// Empty modes keep Debezium's defaults.
func encodingModes(cfg *config.Config, enc *sink.JSONConfig) error {
	e := &cfg.Encoding
	var err error
	if e.DecimalHandlingMode != "" {
		if enc.DecimalMode, err = sink.ParseDecimalMode(e.DecimalHandlingMode); err != nil {
			return err
		}
	}
	if e.TimePrecisionMode != "" {
		if enc.TimePrecisionMode, err = sink.ParseTimePrecisionMode(e.TimePrecisionMode); err != nil {
			return err
		}
	}
	if e.BigIntUnsignedHandlingMode != "" {
		if enc.BigIntUnsignedMode, err = sink.ParseBigIntUnsignedMode(e.BigIntUnsignedHandlingMode); err != nil {
			return err
		}
	}
	if e.BinaryHandlingMode != "" {
		if enc.BinaryMode, err = sink.ParseBinaryMode(e.BinaryHandlingMode); err != nil {
			return err
		}
	}
	enc.PropagateSourceTypeColumns = e.PropagateSourceTypeColumns
	enc.PropagateSourceTypeDatatypes = e.PropagateSourceTypeDatatypes
	return nil
}
