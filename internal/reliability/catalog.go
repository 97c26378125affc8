package reliability

// Entry is one test of RELIABILITY.md §3 and where it is covered.
type Entry struct {
	N          int
	Name       string
	Invariants string
	// Tests are the covering tests as "<package dir> <TestName>"; the first
	// is the main one. Tests of this package in the fast subset run under
	// `make test`; those marked Slow need RIVULET_CHAOS=1 (make chaos).
	Tests []string
	Slow  bool
	// Note explains an equivalent built instead of the test as written.
	Note string
}

const here = "internal/reliability"

// Catalog is RELIABILITY.md §3, test by test.
var Catalog = []Entry{
	{1, "kill -9 mid-stream", "I1 I2 I3", []string{here + " TestReliability01_KillNineMidStream", "cmd/rivulet TestRun_KillNineLosesNothing"}, false,
		"counter workload on 3 tables at full speed of one connection; restart at once (not after 5 s)"},
	{2, "kill inside a multi-row transaction", "I1 I2", []string{here + " TestReliability02_KillInsideTransaction", "binlog TestReader_LargeTransactionResume"}, false,
		"fault point offset.saved-midtx kills right after an offset inside a 10,000-row transaction is durable"},
	{3, "crash between Kafka ack and offset commit", "I2", []string{here + " TestReliability03_CrashBetweenAckAndOffset"}, false,
		"fault point offset.before-save"},
	{4, "crash around a DDL", "I1 I2", []string{here + " TestReliability04_CrashAroundDDL", "engine TestHistory_RestartRebuildsFromHistory"}, false,
		"(a) fault point history.recorded; (b) impossible by construction: engine.recordSchema writes the history before the batch is queued for commit"},
	{5, "kill during snapshot chunk", "I1", []string{"cmd/rivulet TestSnapshot_ResumesAfterKill", "cmd/rivulet TestSnapshot_ConsistentUnderWrites"}, false,
		"20,000 rows (RIVULET_SNAPSHOT_ROWS for more), not 5M"},
	{6, "restart storm", "I1 I3", []string{here + " TestChaos_Randomised"}, true,
		"the randomised run (SIGTERM restarts and SIGKILLs among the other faults every 1-4 s, for RIVULET_CHAOS_DURATION, default 3 min, not 10) checks I1, I3, I2 and that file descriptors stay flat"},
	{7, "graceful stop", "I1 I2", []string{here + " TestReliability07_GracefulStop"}, false, ""},
	{8, "MySQL connection drop", "I1 I2", []string{here + " TestReliability08_ConnectionReset", "cmd/rivulet TestRun_ReconnectsAndCounts"}, false,
		"TCP reset through the proxy; KILL of the dump thread in cmd/rivulet"},
	{9, "silent network black-hole", "I1 I4", []string{here + " TestReliability09_BlackHole"}, true, ""},
	{10, "MySQL restart during snapshot and streaming", "I1", []string{here + " TestReliability10_DatabaseRestart", "binlog TestReader_ReconnectsAfterServerRestart"}, true,
		"the test's own mariadbd is stopped and started (no Docker)"},
	{11, "binlog purged while down", "I4", []string{"cmd/rivulet TestOffsets_PurgedWhileStopped", "cmd/rivulet TestSnapshot_WhenNeeded", "binlog TestCheckStart_PurgedAndReset"}, false, ""},
	{12, "GTID failover to a replica", "I1 I2", []string{"cmd/rivulet TestOffsets_FailoverToReplica", "binlog TestReader_GTIDDomainExcluded"}, false,
		"MariaDB GTID (domain-server-seq) replica; MySQL gtid_mode not available here"},
	{13, "different or reset server", "I4", []string{here + " TestReliability13_ResetMaster", "binlog TestCheckStart_PurgedAndReset"}, true, ""},
	{14, "Kafka unavailable", "I1 I4", []string{here + " TestReliability14_KafkaOutage"}, false,
		"the test's own Apache Kafka 4.3 broker killed (SIGKILL) and started again; 10 s under make test, 60 s under make chaos"},
	{15, "broker rolling restart / leader change", "I1 I3", []string{here + " TestReliability15_RollingRestart", here + " TestReliability15_LeaderMoves"}, false,
		"three Apache Kafka 4.3 nodes (RF 3, min.insync.replicas 2) restarted one at a time under a paced counter workload (the second killed with SIGKILL); under make chaos also kfake's leaders moved 20 times"},
	{16, "record larger than max.message.bytes", "I4", []string{here + " TestReliability16_RecordTooLarge"}, true,
		"a 2.7 MB row against the ~1 MB producer/broker limit; no skip option exists: fail closed only; the topic limit is not discovered at startup"},
	{17, "topic missing or ACL denied", "I4", []string{here + " TestReliability17_TopicDenied"}, true, ""},
	{18, "two instances, same source and config", "I4", []string{"cmd/rivulet TestOffsets_OneWriter", "cmd/rivulet TestRun_ServerIDClashRefusedNotFlapped"}, false, ""},
	{19, "unparseable DDL", "I4 I5", []string{"cmd/rivulet TestSchema_UnparseableDDLStopsThenReloads", here + " TestReliability19_UnparseableDDLSkips", "binlog TestReader_DDLUnparseableStops"}, false, ""},
	{20, "rename, drop, truncate, recreate", "I1", []string{here + " TestReliability20_RenameDropRecreate", "schema TestTracker_ApplyDDL_RenameSwap", "binlog TestReader_DDLTracking"}, true, ""},
	{21, "schema change between snapshot and stream", "I1", []string{"cmd/rivulet TestSnapshot_DDLDuringSnapshot"}, false, ""},
	{22, "tracked schema disagrees with the row events", "I4", []string{here + " TestReliability22_SchemaMismatch", "binlog TestReader_SchemaMismatch"}, true, ""},
	{23, "schema history lost or corrupt", "I4", []string{"cmd/rivulet TestSchema_RecoveryRebuildsLostHistory", "schema TestUnmarshalRecord_Damaged"}, false, ""},
	{24, "online schema-change tools", "I1", []string{here + " TestReliability24_OnlineSchemaChange"}, true,
		"gh-ost and pt-osc are not installed: their statement sequence (ghost table, copy, triggers or binlog, atomic RENAME swap) is replayed in SQL"},
	{25, "MariaDB binlog dialect", "I1", []string{"schema TestTracker_Corpus", "schema TestRewriteMariaDB", "schema TestClassify"}, false, ""},
	{26, "invalid configuration, credentials, privileges", "I4", []string{"cmd/rivulet TestCLI_InvalidConfigExitsTwo", "cmd/rivulet TestCLI_Check", "binlog TestPreflight_Privileges", "binlog TestPreflight_Unreachable", "config TestFromMap_AllErrorsAtOnce"}, false, ""},
	{27, "server binlog settings wrong", "I4", []string{"binlog TestPreflight_BadVariables", "binlog TestPreflight_LogBinOff", "binlog TestReader_StatementBasedIsFatal"}, false,
		"PARTIAL_JSON is MySQL-only"},
	{28, "awkward values", "I1", []string{"binlog TestReader_Types", "binlog TestCharsetDecoder", "cmd/rivulet TestSnapshot_InitialChunkedMarkers", "sink TestJSON_Golden"}, false,
		"VECTOR needs MariaDB 11.7 (10.11 here)"},
	{29, "huge transaction, rollback", "I1", []string{here + " TestReliability29_HugeTransaction", "binlog TestReader_LargeTransactionResume"}, true,
		"200,000 rows by INSERT ... SELECT; compressed binlog payloads are MySQL-only"},
	{30, "disk full on the offset store", "I1 I4", []string{here + " TestReliability30_OffsetDiskFull", "offsets TestFileStore_SaveFailureKeepsOldFile", "offsets TestFileStore_ReadOnlyDir"}, false,
		"1 MiB tmpfs mounted under the offsets (root only; skipped otherwise)"},
}
