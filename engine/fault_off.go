//go:build !rivuletfault

package engine

// Without the rivuletfault build tag the fault points compile to nothing:
// the store and history pass through unchanged (see fault_on.go).

func faultStore(s OffsetStore) OffsetStore       { return s }
func faultHistory(h SchemaHistory) SchemaHistory { return h }
