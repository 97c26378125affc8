package schema

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrHistory reports a schema history that cannot be read or written, or
// whose content is damaged.
var ErrHistory = errors.New("schema history")

// HistoryRecord is one record of Debezium's internal schema history
// (DEBEZIUM-REFERENCE.md §4.1): the connector partition, the offset at the
// DDL, the time it was recorded and the change.
type HistoryRecord struct {
	Server   string          // source.server: the topic.prefix
	Position json.RawMessage // the Kafka Connect offset map at the DDL
	TsMs     int64
	Change   *Change
}

// recordJSON is the document layout; field order follows Debezium's
// HistoryRecord.
type recordJSON struct {
	Source       map[string]string `json:"source"`
	Position     json.RawMessage   `json:"position"`
	TsMs         int64             `json:"ts_ms"`
	DatabaseName string            `json:"databaseName,omitempty"`
	DDL          string            `json:"ddl"`
	TableChanges []changeJSON      `json:"tableChanges"`
}

type changeJSON struct {
	Type       string     `json:"type"`
	ID         string     `json:"id"`
	PreviousID string     `json:"previousId,omitempty"`
	Table      *tableJSON `json:"table"`
	Comment    *string    `json:"comment"`
}

type tableJSON struct {
	DefaultCharsetName    string       `json:"defaultCharsetName"`
	PrimaryKeyColumnNames []string     `json:"primaryKeyColumnNames"`
	Columns               []columnJSON `json:"columns"`
	Attributes            []attrJSON   `json:"attributes"`
	Comment               *string      `json:"comment,omitempty"`
}

type attrJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type columnJSON struct {
	Name                   string   `json:"name"`
	JdbcType               int      `json:"jdbcType"`
	TypeName               string   `json:"typeName"`
	TypeExpression         string   `json:"typeExpression"`
	CharsetName            *string  `json:"charsetName"`
	Length                 *int     `json:"length,omitempty"`
	Scale                  *int     `json:"scale,omitempty"`
	Position               int      `json:"position"`
	Optional               bool     `json:"optional"`
	AutoIncremented        bool     `json:"autoIncremented"`
	Generated              bool     `json:"generated"`
	Comment                *string  `json:"comment"`
	HasDefaultValue        bool     `json:"hasDefaultValue"`
	DefaultValueExpression *string  `json:"defaultValueExpression,omitempty"`
	EnumValues             []string `json:"enumValues"`
}

// attrIndexes is the table attribute holding Rivulet's index list (the
// model needs unique keys and their names to apply later DDL; Debezium
// keeps attributes it does not know).
const attrIndexes = "rivulet.indexes"

// attrDeclared is the table attribute holding each column's Declared type
// (the DDL text's spelling, length and scale), so that a model recovered
// from the history renders the schema change topic and propagated source
// types as the one built from the DDL did.
const attrDeclared = "rivulet.declared"

// declaredJSON is one column's Declared in attrDeclared (null: unset).
type declaredJSON struct {
	Name     string `json:"n,omitempty"`
	Length   int    `json:"l"`
	Scale    int    `json:"s"`
	Zerofill bool   `json:"z,omitempty"`
}

// java.sql.Types codes Debezium's MySQL type resolver assigns.
var jdbcTypes = map[Type]int{
	TypeTinyInt: -6, TypeSmallInt: 5, TypeMediumInt: 4, TypeInt: 4, TypeBigInt: -5,
	TypeDecimal: 3, TypeFloat: 6, TypeDouble: 8, TypeBit: -7, TypeChar: 1, TypeVarchar: 12,
	TypeText: 12, TypeBinary: -2, TypeVarbinary: -3, TypeBlob: 2004, TypeDate: 91, TypeTime: 92,
	TypeDateTime: 93, TypeTimestamp: 2014, TypeYear: 4, TypeEnum: 1, TypeSet: 1, TypeJSON: 1111,
	TypeGeometry: 1111, TypeUnknown: 1111,
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// debeziumID renders a table id as Debezium does: "db"."table".
func debeziumID(id TableID) string {
	return `"` + id.DB + `"."` + id.Name + `"`
}

func parseDebeziumID(s string) (TableID, error) {
	var parts []string
	for s != "" {
		if s[0] != '"' {
			i := strings.IndexByte(s, '.')
			if i < 0 {
				parts = append(parts, s)
				break
			}
			parts = append(parts, s[:i])
			s = s[i+1:]
			continue
		}
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return TableID{}, fmt.Errorf("table id %q: unterminated quote", s)
		}
		parts = append(parts, s[1:1+end])
		s = strings.TrimPrefix(s[2+end:], ".")
	}
	if len(parts) != 2 {
		return TableID{}, fmt.Errorf("table id %q is not \"db\".\"table\"", s)
	}
	return TableID{DB: parts[0], Name: parts[1]}, nil
}

// encodeTable renders d for the schema history, or with topic for the
// schema change topic (include.schema.changes), where Debezium shows its
// table model as its DDL parser built it: typeExpression is the type name,
// length and scale are those the DDL text wrote (Column.Declared), ENUM and
// SET members are quoted as written and enumValues is null for other types
// (seen by the differential suite).
func encodeTable(d *TableDef, topic bool) *tableJSON {
	t := d.Table
	tj := &tableJSON{DefaultCharsetName: d.Charset, PrimaryKeyColumnNames: []string{}, Columns: make([]columnJSON, len(t.Columns)),
		Attributes: []attrJSON{}, Comment: strPtr(d.Comment)}
	for _, k := range t.PrimaryKey {
		tj.PrimaryKeyColumnNames = append(tj.PrimaryKeyColumnNames, t.Columns[k].Name)
	}
	for i, c := range t.Columns {
		var x ColumnDef
		if i < len(d.Columns) {
			x = d.Columns[i]
		}
		name := c.TypeName
		if c.Unsigned {
			name += " UNSIGNED"
		}
		expr := x.TypeExpression
		if expr == "" {
			expr = name
		}
		jdbc := jdbcTypes[c.Type]
		if c.Type == TypeTinyInt && (strings.EqualFold(c.TypeName, "BOOLEAN") || strings.EqualFold(c.TypeName, "BOOL")) {
			jdbc = 16 // Types.BOOLEAN, as Debezium's DDL parser records BOOL/BOOLEAN
		}
		cj := columnJSON{Name: c.Name, JdbcType: jdbc, TypeName: name, TypeExpression: expr,
			CharsetName: strPtr(c.Charset), Position: i + 1, Optional: c.Nullable, AutoIncremented: x.AutoIncrement,
			Generated: x.Generated || x.AutoIncrement, Comment: strPtr(x.Comment), HasDefaultValue: x.HasDefault,
			EnumValues: c.Values}
		if cj.EnumValues == nil {
			cj.EnumValues = []string{}
		}
		// defaultValueExpression as Debezium records it (Column.Default);
		// hasDefaultValue is the DEFAULT clause of either model.
		cj.HasDefaultValue = x.HasDefault || c.HasDefault
		if c.Default != nil {
			cj.DefaultValueExpression = c.Default
		}
		length, scale := c.Length, c.Scale
		switch c.Type {
		case TypeTime, TypeDateTime, TypeTimestamp:
			length = c.FSP
		}
		if length > 0 {
			cj.Length = &length
		}
		if c.Type == TypeDecimal || scale > 0 {
			cj.Scale = &scale
		}
		if topic {
			var l, sc int
			cj.TypeName, l, sc = c.DebeziumType()
			cj.Length, cj.Scale = nil, nil
			if l >= 0 {
				cj.Length = &l
			}
			if sc >= 0 {
				cj.Scale = &sc
			}
			if w := c.Declared.Name; c.Declared.Set && w != "" {
				if j, ok := debeziumJDBC[w]; ok {
					cj.JdbcType = j
				}
				if binaryWords[w] {
					cj.CharsetName = nil
				}
			} else if c.Type == TypeTinyInt && cj.JdbcType == jdbcTypes[TypeTinyInt] {
				cj.JdbcType = debeziumJDBC["TINYINT"]
			}
			if !c.Declared.Set && (c.Type == TypeJSON || c.Charset == "binary") {
				cj.CharsetName = nil
			}
			// Debezium's generated is its parser's AUTO_INCREMENT mark;
			// it does not mark generated (AS ...) columns.
			cj.Generated = x.AutoIncrement
			cj.TypeExpression = cj.TypeName
			cj.EnumValues = nil
			for _, v := range c.Values {
				cj.EnumValues = append(cj.EnumValues, "'"+strings.ReplaceAll(v, "'", "''")+"'")
			}
		}
		tj.Columns[i] = cj
	}
	if len(d.Indexes) > 0 {
		b, _ := json.Marshal(d.Indexes)
		tj.Attributes = append(tj.Attributes, attrJSON{Name: attrIndexes, Value: string(b)})
	}
	if !topic {
		decl := make([]*declaredJSON, len(t.Columns))
		any := false
		for i, c := range t.Columns {
			if c.Declared.Set {
				decl[i] = &declaredJSON{Name: c.Declared.Name, Length: c.Declared.Length, Scale: c.Declared.Scale, Zerofill: c.Declared.Zerofill}
				any = true
			}
		}
		if any {
			b, _ := json.Marshal(decl)
			tj.Attributes = append(tj.Attributes, attrJSON{Name: attrDeclared, Value: string(b)})
		}
	}
	return tj
}

// typeByName maps a Debezium typeName (without UNSIGNED) back to a Type.
func typeByName(name string) Type {
	switch name {
	case "JSON":
		return TypeJSON
	case "GEOMETRY", "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION", "GEOMCOLLECTION":
		return TypeGeometry
	// Names Debezium's DDL parser keeps as written (BOOLEAN is its own
	// JDBC type; the sink renders it boolean by its name).
	case "BOOL", "BOOLEAN", "INT1":
		return TypeTinyInt
	case "INT2":
		return TypeSmallInt
	case "INT3", "MIDDLEINT":
		return TypeMediumInt
	case "INT4":
		return TypeInt
	case "INT8":
		return TypeBigInt
	case "DEC", "FIXED":
		return TypeDecimal
	case "DOUBLE PRECISION":
		return TypeDouble
	case "CHARACTER", "NCHAR", "NATIONAL CHAR":
		return TypeChar
	case "CHARACTER VARYING", "NVARCHAR", "NATIONAL VARCHAR":
		return TypeVarchar
	}
	return dataTypes[strings.ToLower(name)]
}

func decodeTable(id TableID, tj *tableJSON) (*TableDef, error) {
	t := &Table{DB: id.DB, Name: id.Name, Columns: make([]Column, len(tj.Columns))}
	d := &TableDef{Table: t, Charset: tj.DefaultCharsetName, Columns: make([]ColumnDef, len(tj.Columns))}
	if tj.Comment != nil {
		d.Comment = *tj.Comment
	}
	for i, cj := range tj.Columns {
		name := strings.ToUpper(strings.TrimSpace(cj.TypeName))
		unsigned := false
		for _, suffix := range []string{" ZEROFILL", " UNSIGNED"} {
			if strings.HasSuffix(name, suffix) {
				name, unsigned = strings.TrimSuffix(name, suffix), true
			}
		}
		c := Column{Name: cj.Name, Type: typeByName(name), TypeName: name, Unsigned: unsigned, Nullable: cj.Optional, Values: cj.EnumValues}
		if len(c.Values) == 0 {
			c.Values = nil
		}
		if cj.CharsetName != nil {
			c.Charset = *cj.CharsetName
		}
		if c.Type == TypeBinary || c.Type == TypeVarbinary || c.Type == TypeBlob {
			c.Charset = "binary"
		}
		length := 0
		if cj.Length != nil {
			length = *cj.Length
		}
		switch c.Type {
		case TypeTime, TypeDateTime, TypeTimestamp:
			c.FSP = max(0, length)
		case TypeText, TypeBlob, TypeDate, TypeYear, TypeEnum, TypeSet, TypeJSON, TypeGeometry:
		default:
			c.Length = max(0, length)
		}
		if cj.Scale != nil {
			c.Scale = max(0, *cj.Scale)
		}
		if c.FSP > 6 {
			return nil, fmt.Errorf("column %s: fractional seconds precision %d", c.Name, c.FSP)
		}
		t.Columns[i] = c
		x := ColumnDef{AutoIncrement: cj.AutoIncremented, Generated: cj.Generated && !cj.AutoIncremented, HasDefault: cj.HasDefaultValue, TypeExpression: cj.TypeExpression}
		if cj.Comment != nil {
			x.Comment = *cj.Comment
		}
		if cj.DefaultValueExpression != nil {
			x.Default = *cj.DefaultValueExpression
			// Rivulet's histories before Debezium-form defaults held the
			// SQL text ('abc', CURRENT_TIMESTAMP): normalised here.
			c.Default = normalizeDefault(*cj.DefaultValueExpression, true)
		}
		c.HasDefault = cj.HasDefaultValue
		t.Columns[i] = c
		d.Columns[i] = x
	}
	for _, a := range tj.Attributes {
		switch a.Name {
		case attrIndexes:
			if err := json.Unmarshal([]byte(a.Value), &d.Indexes); err != nil {
				return nil, fmt.Errorf("attribute %s: %w", attrIndexes, err)
			}
		case attrDeclared:
			var decl []*declaredJSON
			if err := json.Unmarshal([]byte(a.Value), &decl); err != nil {
				return nil, fmt.Errorf("attribute %s: %w", attrDeclared, err)
			}
			for i, dj := range decl {
				if dj != nil && i < len(t.Columns) {
					t.Columns[i].Declared = Declared{Set: true, Name: dj.Name, Length: dj.Length, Scale: dj.Scale, Zerofill: dj.Zerofill}
				}
			}
		}
	}
	var pk []string
	for _, ix := range d.Indexes {
		if ix.Primary {
			pk = ix.Columns
		}
	}
	if pk == nil && len(tj.PrimaryKeyColumnNames) > 0 {
		if d.Indexes == nil {
			// A Debezium-written history: the key is all we know of the indexes.
			d.Indexes = []Index{{Name: "PRIMARY", Primary: true, Unique: true, Columns: tj.PrimaryKeyColumnNames}}
		}
	}
	for _, name := range tj.PrimaryKeyColumnNames {
		i := t.ColumnIndex(name)
		if i < 0 {
			return nil, fmt.Errorf("primary key column %s is not a column", name)
		}
		t.PrimaryKey = append(t.PrimaryKey, i)
	}
	return d, nil
}

// MarshalRecord encodes a history record as Debezium's JSON document.
func MarshalRecord(r HistoryRecord) ([]byte, error) {
	return marshalRecord(r, false)
}

// MarshalTopicRecord is MarshalRecord with the table definitions as
// Debezium's schema change topic shows them (see encodeTable); the sink
// renders tableChanges from it.
func MarshalTopicRecord(r HistoryRecord) ([]byte, error) {
	return marshalRecord(r, true)
}

func marshalRecord(r HistoryRecord, topic bool) ([]byte, error) {
	c := r.Change
	doc := recordJSON{Source: map[string]string{"server": r.Server}, Position: r.Position, TsMs: r.TsMs,
		DatabaseName: c.DB, DDL: c.DDL, TableChanges: make([]changeJSON, 0, len(c.Tables))}
	if len(doc.Position) == 0 {
		doc.Position = json.RawMessage("{}")
	}
	for _, tc := range c.Tables {
		cj := changeJSON{Type: string(tc.Type), ID: debeziumID(tc.ID)}
		if tc.PreviousID.Name != "" {
			cj.PreviousID = debeziumID(tc.PreviousID)
		}
		if tc.Def != nil {
			cj.Table = encodeTable(tc.Def, topic)
		}
		doc.TableChanges = append(doc.TableChanges, cj)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: encode record: %w", ErrHistory, err)
	}
	return b, nil
}

// UnmarshalRecord decodes one history document (Rivulet's or Debezium's).
func UnmarshalRecord(data []byte) (HistoryRecord, error) {
	var doc recordJSON
	if err := json.Unmarshal(data, &doc); err != nil {
		return HistoryRecord{}, fmt.Errorf("%w: damaged record %.120q: %w", ErrHistory, data, err)
	}
	r := HistoryRecord{Server: doc.Source["server"], Position: doc.Position, TsMs: doc.TsMs,
		Change: &Change{DB: doc.DatabaseName, DDL: doc.DDL}}
	for _, cj := range doc.TableChanges {
		id, err := parseDebeziumID(cj.ID)
		if err != nil {
			return HistoryRecord{}, fmt.Errorf("%w: %w", ErrHistory, err)
		}
		tc := TableChange{Type: ChangeType(cj.Type), ID: id}
		if cj.PreviousID != "" {
			if tc.PreviousID, err = parseDebeziumID(cj.PreviousID); err != nil {
				return HistoryRecord{}, fmt.Errorf("%w: %w", ErrHistory, err)
			}
		}
		if cj.Table != nil {
			if tc.Def, err = decodeTable(id, cj.Table); err != nil {
				return HistoryRecord{}, fmt.Errorf("%w: table %s: %w", ErrHistory, id, err)
			}
		}
		switch tc.Type {
		case ChangeCreate, ChangeAlter, ChangeDrop:
		default:
			return HistoryRecord{}, fmt.Errorf("%w: table change type %q", ErrHistory, cj.Type)
		}
		if tc.Type != ChangeDrop && tc.Def == nil {
			return HistoryRecord{}, fmt.Errorf("%w: %s change of %s without a table", ErrHistory, tc.Type, id)
		}
		r.Change.Tables = append(r.Change.Tables, tc)
	}
	return r, nil
}

// HistoryStore keeps the schema history records in order.
type HistoryStore interface {
	// Append durably stores records (JSON documents) after the existing
	// ones; when it returns nil they survive a crash.
	Append(ctx context.Context, records [][]byte) error
	// Read calls fn with every stored record in order.
	Read(ctx context.Context, fn func([]byte) error) error
	// Exists reports whether the history holds at least one record.
	Exists(ctx context.Context) (bool, error)
	Close() error
}

// FileHistory is Debezium's FileSchemaHistory: one JSON document per line.
type FileHistory struct {
	path string
}

// NewFileHistory returns a history kept in the file at path
// (schema.history.internal.file.filename).
func NewFileHistory(path string) *FileHistory { return &FileHistory{path: path} }

// Append writes records at the end of the file and syncs it.
func (h *FileHistory) Append(_ context.Context, records [][]byte) (err error) {
	if err := os.MkdirAll(filepath.Dir(h.path), 0o755); err != nil {
		return fmt.Errorf("%w: %w", ErrHistory, err)
	}
	f, err := os.OpenFile(h.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%w: open %s: %w", ErrHistory, h.path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("%w: close %s: %w", ErrHistory, h.path, cerr)
		}
	}()
	var buf bytes.Buffer
	for _, r := range records {
		buf.Write(r)
		buf.WriteByte('\n')
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("%w: write %s: %w", ErrHistory, h.path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: sync %s: %w", ErrHistory, h.path, err)
	}
	return nil
}

// Read calls fn for each line. A last line without its newline (a write
// cut by a crash) is ignored: its offset was never committed.
func (h *FileHistory) Read(ctx context.Context, fn func([]byte) error) error {
	f, err := os.Open(h.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: open %s: %w", ErrHistory, h.path, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return nil // a partial last line is a torn write
		}
		if err != nil {
			return fmt.Errorf("%w: read %s: %w", ErrHistory, h.path, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return err
		}
	}
}

// Exists reports whether the file holds a record.
func (h *FileHistory) Exists(ctx context.Context) (bool, error) {
	found := false
	err := h.Read(ctx, func([]byte) error { found = true; return errStop })
	if errors.Is(err, errStop) {
		err = nil
	}
	return found, err
}

var errStop = errors.New("stop")

// Close does nothing: the file is opened per call.
func (h *FileHistory) Close() error { return nil }

// Recover rebuilds the model from the records of store that belong to server
// (source.server) and whose position apply accepts (Debezium: at or before
// the restart offset), in order, from their tableChanges: no old DDL is
// parsed, except database DDL (CREATE/ALTER DATABASE), which has no
// tableChanges and sets the default charset of later tables. It returns the
// number of records applied.
func (tr *Tracker) Recover(ctx context.Context, store HistoryStore, server string, apply func(position json.RawMessage) (bool, error)) (int, error) {
	n := 0
	err := store.Read(ctx, func(data []byte) error {
		r, err := UnmarshalRecord(data)
		if err != nil {
			return err
		}
		if r.Server != server {
			return nil
		}
		ok, err := apply(r.Position)
		if err != nil {
			return fmt.Errorf("%w: record position %s: %w", ErrHistory, r.Position, err)
		}
		if !ok {
			return nil
		}
		n++
		if len(r.Change.Tables) == 0 {
			if w := words(r.Change.DDL, 2); len(w) == 2 && (w[0] == "CREATE" || w[0] == "ALTER" || w[0] == "DROP") && (w[1] == "DATABASE" || w[1] == "SCHEMA") {
				if _, err := tr.applyDDL(ctx, DDL{DB: r.Change.DB, SQL: r.Change.DDL, Pos: "history"}); err != nil {
					return fmt.Errorf("%w: %w", ErrHistory, err)
				}
			}
			return nil
		}
		tr.ApplyChange(r.Change)
		return nil
	})
	return n, err
}
