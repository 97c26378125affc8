package srtest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// CheckBackward reports whether a reader using schema reader can decode
// every datum written with schema writer, by Avro's schema-resolution rules
// (the check behind the registry's BACKWARD level): records match by full
// name, every reader field is in the writer or has a default, field types
// resolve recursively, a writer union resolves branch by branch, and
// primitives match or promote (int→long→float→double, string↔bytes).
// Arrays, maps, enums and fixed are not used by Rivulet and are refused.
func CheckBackward(reader, writer string) error {
	var r, w any
	if err := json.Unmarshal([]byte(reader), &r); err != nil {
		return fmt.Errorf("reader schema: %w", err)
	}
	if err := json.Unmarshal([]byte(writer), &w); err != nil {
		return fmt.Errorf("writer schema: %w", err)
	}
	c := &resolver{rn: map[string]map[string]any{}, wn: map[string]map[string]any{}, seen: map[[2]string]bool{}}
	collect(r, "", c.rn)
	collect(w, "", c.wn)
	return c.resolve("", r, w)
}

type resolver struct {
	rn, wn map[string]map[string]any
	seen   map[[2]string]bool
}

func fullName(m map[string]any, ns string) string {
	name, _ := m["name"].(string)
	if strings.Contains(name, ".") {
		return name
	}
	if n, ok := m["namespace"].(string); ok {
		ns = n
	}
	if ns == "" {
		return name
	}
	return ns + "." + name
}

// collect indexes named records by full name.
func collect(s any, ns string, into map[string]map[string]any) {
	switch t := s.(type) {
	case []any:
		for _, b := range t {
			collect(b, ns, into)
		}
	case map[string]any:
		if t["type"] != "record" {
			collect(t["type"], ns, into)
			return
		}
		full := fullName(t, ns)
		into[full] = t
		space := full[:max(strings.LastIndexByte(full, '.'), 0)]
		for _, f := range t["fields"].([]any) {
			collect(f.(map[string]any)["type"], space, into)
		}
	}
}

var primitives = map[string]bool{"null": true, "boolean": true, "int": true, "long": true, "float": true, "double": true, "bytes": true, "string": true}

// node returns the type name of a schema node and its record, if any.
func node(s any, named map[string]map[string]any) (string, map[string]any) {
	switch t := s.(type) {
	case string:
		if primitives[t] {
			return t, nil
		}
		for full, rec := range named {
			if full == t || strings.HasSuffix(full, "."+t) {
				return "record", rec
			}
		}
		return t, nil
	case map[string]any:
		typ, _ := t["type"].(string)
		if typ == "record" {
			return "record", t
		}
		if _, nested := t["type"].(map[string]any); nested {
			return node(t["type"], named)
		}
		return typ, nil
	case []any:
		return "union", nil
	}
	return "", nil
}

var promotions = map[[2]string]bool{
	{"int", "long"}: true, {"int", "float"}: true, {"int", "double"}: true,
	{"long", "float"}: true, {"long", "double"}: true, {"float", "double"}: true,
	{"string", "bytes"}: true, {"bytes", "string"}: true,
}

func (c *resolver) resolve(path string, r, w any) error {
	if wu, ok := w.([]any); ok {
		for _, b := range wu {
			if err := c.resolve(path, r, b); err != nil {
				return err
			}
		}
		return nil
	}
	if ru, ok := r.([]any); ok {
		var first error
		for _, b := range ru {
			err := c.resolve(path, b, w)
			if err == nil {
				return nil
			}
			if first == nil {
				first = err
			}
		}
		wt, _ := node(w, c.wn)
		return fmt.Errorf("%s: no branch of the reader's union takes the writer's %s", orRoot(path), wt)
	}
	rt, rrec := node(r, c.rn)
	wt, wrec := node(w, c.wn)
	switch {
	case rt == "record" && wt == "record":
		rf, wf := fullName(rrec, ""), fullName(wrec, "")
		if rf != wf {
			return fmt.Errorf("%s: reader record %s, writer record %s", orRoot(path), rf, wf)
		}
		if c.seen[[2]string{rf, wf}] {
			return nil
		}
		c.seen[[2]string{rf, wf}] = true
		wfields := map[string]any{}
		for _, f := range wrec["fields"].([]any) {
			fm := f.(map[string]any)
			wfields[fm["name"].(string)] = fm["type"]
		}
		for _, f := range rrec["fields"].([]any) {
			fm := f.(map[string]any)
			name := fm["name"].(string)
			wtyp, ok := wfields[name]
			if !ok {
				if _, hasDefault := fm["default"]; !hasDefault {
					return fmt.Errorf("%s.%s: field is new and has no default", orRoot(path), name)
				}
				continue
			}
			if err := c.resolve(path+"."+name, fm["type"], wtyp); err != nil {
				return err
			}
		}
		return nil
	case rt == wt && primitives[rt]:
		return nil
	case promotions[[2]string{wt, rt}]:
		return nil
	}
	return fmt.Errorf("%s: reader type %s cannot read writer type %s", orRoot(path), rt, wt)
}

func orRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}
