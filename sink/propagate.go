package sink

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/rivulet-cdc/rivulet/schema"
)

// This file is column.propagate.source.type and
// datatype.propagate.source.type: Debezium's ColumnMappers rules with
// PropagateSourceMetadataToSchemaParameter (debezium-connector-common
// relational/mapping). A value field (never a key field: TableSchemaBuilder
// builds the key without mappers) whose "db.table.column", or whose
// "db.table.TYPENAME" for the datatype key, matches one of the regular
// expressions (comma-separated, case-insensitive, whole string) gets the
// schema parameters __debezium.source.column.type (the type name in upper
// case), .length and .scale (when the column has them) and .name, after
// the parameters of its type.

// Schema parameter keys of PropagateSourceMetadataToSchemaParameter.
const (
	paramSourceType   = "__debezium.source.column.type"
	paramSourceLength = "__debezium.source.column.length"
	paramSourceScale  = "__debezium.source.column.scale"
	paramSourceName   = "__debezium.source.column.name"
)

// propagation holds the compiled propagate keys.
type propagation struct {
	columns, datatypes []*regexp.Regexp
}

func compilePropagation(columns, datatypes string) (*propagation, error) {
	p := &propagation{}
	var err error
	if p.columns, err = compileRegexList("column.propagate.source.type", columns); err != nil {
		return nil, err
	}
	if p.datatypes, err = compileRegexList("datatype.propagate.source.type", datatypes); err != nil {
		return nil, err
	}
	if len(p.columns) == 0 && len(p.datatypes) == 0 {
		return nil, nil
	}
	return p, nil
}

// compileRegexList splits a Debezium regular expression list the way
// Strings.setOfRegex does (commas not escaped by a backslash; "\," is a
// comma) and compiles each entry anchored and case-insensitive.
func compileRegexList(key, list string) ([]*regexp.Regexp, error) {
	var res []*regexp.Regexp
	add := func(p string) error {
		p = strings.TrimSpace(strings.ReplaceAll(p, `\,`, ","))
		if p == "" {
			return nil
		}
		re, err := regexp.Compile(`(?i)^(?:` + p + `)$`)
		if err != nil {
			return fmt.Errorf("%w: %s: %q: %v", ErrConfig, key, p, err)
		}
		res = append(res, re)
		return nil
	}
	start := 0
	for i := 0; i < len(list); i++ {
		switch list[i] {
		case '\\':
			if i+1 == len(list) {
				return nil, fmt.Errorf("%w: %s: %w", ErrConfig, key, errors.New("unterminated escape at the end"))
			}
			i++
		case ',':
			if err := add(list[start:i]); err != nil {
				return nil, err
			}
			start = i + 1
		}
	}
	if err := add(list[start:]); err != nil {
		return nil, err
	}
	return res, nil
}

func matchRegexList(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// apply adds the parameters to the value columns of t that the rules select.
func (p *propagation) apply(t *schema.Table, cols []colEnc) {
	if p == nil {
		return
	}
	prefix := t.DB + "." + t.Name + "."
	for i := range cols {
		e := &cols[i]
		c := &t.Columns[e.idx]
		// Debezium's Column.typeName(), length() and scale(): the type as
		// its DDL parser read the text (schema.Column.DebeziumType).
		typeName, length, scale := c.DebeziumType()
		if !matchRegexList(p.columns, prefix+c.Name) && !matchRegexList(p.datatypes, prefix+typeName) {
			continue
		}
		params := make([][2]string, 0, len(e.schema.params)+4)
		params = append(params, e.schema.params...)
		params = append(params, [2]string{paramSourceType, typeName})
		if length >= 0 {
			params = append(params, [2]string{paramSourceLength, strconv.Itoa(length)})
		}
		if scale >= 0 {
			params = append(params, [2]string{paramSourceScale, strconv.Itoa(scale)})
		}
		params = append(params, [2]string{paramSourceName, c.Name})
		e.schema.params = params
	}
}
