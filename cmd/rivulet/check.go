package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/engine"
)

// checkCmd prints one line per prerequisite, PASS or FAIL with the fix, and
// returns exitFailure if any failed.
func checkCmd(ctx context.Context, cfg *config.Config, w io.Writer) int {
	code := exitOK
	for _, r := range engine.Check(ctx, cfg) {
		status := "PASS"
		switch {
		case !r.OK:
			status, code = "FAIL", exitFailure
		case r.Warning:
			status = "WARN"
		}
		line := fmt.Sprintf("%s  %-26s %s", status, r.Name, r.Detail)
		if r.Fix != "" && (!r.OK || r.Warning) {
			line += "\n      fix: " + r.Fix
		}
		fmt.Fprintln(w, line)
	}
	return code
}
