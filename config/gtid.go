package config

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
		for _, m := range match {
			if m(src) {
				return keep
			}
		}
		return !keep
	}
}
