package engine

import (
	"fmt"
	"strings"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
)

// encodingTransforms hands the transforms, column mappers and
// skip.messages.without.change of cfg to the encoder configuration.
func encodingTransforms(cfg *config.Config, enc *sink.JSONConfig) error {
	if len(cfg.Transforms) == 0 && len(cfg.ColumnMappers) == 0 && !cfg.SkipMessagesWithoutChange {
		return nil
	}
	if len(cfg.Transforms) > 0 || len(cfg.ColumnMappers) > 0 {
		for _, c := range []string{cfg.KeyConverter.Class, cfg.ValueConverter.Class} {
			if strings.Contains(c, "Avro") {
				return fmt.Errorf("%w: transforms and column.mask/column.truncate keys together with %s are not supported yet; use %s or remove them",
					config.ErrUnsupported, c, config.JSONConverterClass)
			}
		}
	}
	enc.SkipMessagesWithoutChange = cfg.SkipMessagesWithoutChange
	for _, t := range cfg.Transforms {
		var kind sink.TransformKind
		switch t.Class {
		case config.UnwrapClass:
			kind = sink.TransformUnwrap
		case config.LogicalTableRouterClass, config.LogicalTopicRouterClass:
			kind = sink.TransformLogicalTableRouter
		case config.RegexRouterClass:
			kind = sink.TransformRegexRouter
		default:
			return fmt.Errorf("%w: transforms.%s.type %q is not a transform Rivulet implements", config.ErrUnsupported, t.Name, t.Class)
		}
		dh, err := sink.ParseDeleteHandling(t.DeleteHandling)
		if err != nil {
			return fmt.Errorf("%w: transforms.%s.%w", config.ErrInvalid, t.Name, err)
		}
		enc.Transforms = append(enc.Transforms, sink.TransformConfig{
			Name: t.Name, Kind: kind,
			DeleteHandling: dh,
			AddFields:      t.AddFields, AddFieldsPrefix: t.AddFieldsPrefix,
			AddHeaders: t.AddHeaders, AddHeadersPrefix: t.AddHeadersPrefix,
			RouteByField: t.RouteByField,
			Regex:        t.Regex, Replacement: t.Replacement,
			KeyEnforceUniqueness: t.KeyEnforceUniqueness, KeyFieldName: t.KeyFieldName,
			KeyFieldRegex: t.KeyFieldRegex, KeyFieldReplacement: t.KeyFieldReplacement,
		})
	}
	kinds := map[string]sink.ColumnMapperKind{"truncate": sink.ColumnTruncate, "mask": sink.ColumnMaskChars,
		"hash": sink.ColumnMaskHash, "hash.v2": sink.ColumnMaskHashV2}
	for _, m := range cfg.ColumnMappers {
		enc.ColumnMappers = append(enc.ColumnMappers, sink.ColumnMapperConfig{
			Kind: kinds[m.Kind], Columns: m.Columns, N: m.N, Algorithm: m.Algorithm, Salt: m.Salt,
		})
	}
	// Check now, so that a pattern or replacement Go cannot run stops the
	// start with the key named, not the first event.
	if _, err := debeziumjson.NewJSON(*enc); err != nil {
		return fmt.Errorf("%w: %w", config.ErrInvalid, err)
	}
	return nil
}
