package config

import "strings"

// GTIDSource returns the predicate of gtid.source.includes/excludes over a
// GTID source (see Filters.GTIDSourceInclude), or nil when neither is set.
// Patterns that do not compile are skipped (Validate reports them).
func (f Filters) GTIDSource() func(src string) bool {
	pats, keep := f.GTIDSourceInclude, true
	if len(pats) == 0 {
		pats, keep = f.GTIDSourceExclude, false
	}
	if len(pats) == 0 {
		return nil
	}
	var match []func(string) bool
	for _, p := range pats {
		if re, err := CompileFilter(p); err == nil {
			match = append(match, re.MatchString)
		}
	}
	return func(src string) bool {
		// A tagged MySQL GTID (8.3+) has the source "<uuid>:<tag>": a
		// pattern may name the tag or the server UUID alone (all its tags).
		uuid, _, tagged := strings.Cut(src, ":")
		for _, m := range match {
			if m(src) || tagged && m(uuid) {
				return keep
			}
		}
		return !keep
	}
}
