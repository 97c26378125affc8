// Package reliability is Rivulet's fault and bad-input suite (issue 8,
// /work/shared/RELIABILITY.md §3): it runs the real binary against a
// throwaway mariadbd and an in-process Kafka (kfake), injects faults —
// SIGKILL, build-tagged fault points inside Rivulet (engine/fault_on.go,
// `-tags rivuletfault`), connection resets and black holes through a TCP
// proxy in the test process, broker stalls and outages through a gated
// kfake listener, a full tmpfs under the offsets, database restarts — and
// judges every run with one validator:
//
//   - I1 no loss: the final state per key rebuilt from every topic equals
//     the source table (CheckState);
//   - I2 bounded duplicates: a record seen twice is identical, carries the
//     same source coordinates, and lies after the durable offset of the
//     crash that caused it (CheckDuplicates, CheckReplay);
//   - I3 per-key order: with the counter workload each key's counter only
//     moves +1, repeats (replays) allowed, gaps never (CheckCounters);
//   - I4 fail closed, loudly: a failure produces one actionable ERROR line
//     and a non-zero exit or an unready /readyz, within a measured time
//     (CheckFailure);
//   - I5 no silent skip: every skip was opted into, logged and counted
//     (CheckSkip).
//
// Catalog maps the 30 tests of RELIABILITY.md §3 to the test that covers
// each (here or in another package, by name) and the invariants it checks;
// the reltable command turns `go test -json` output into the table printed
// by `make test` and `make chaos` (test, invariant, result) plus the figures
// the tests report with Figure ("figure: name=value unit" lines).
//
// The fast subset runs under `go test ./internal/reliability/`; the slow
// tests and the randomised chaos run need RIVULET_CHAOS=1 (make chaos), the
// chaos run's length is RIVULET_CHAOS_DURATION (default 3m).
package reliability
