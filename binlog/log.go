package binlog

// Log attribute keys, stable across releases (STYLE §8).
const (
	keyTable      = "table"
	keyGTID       = "gtid"
	keyBinlogFile = "binlog_file"
	keyBinlogPos  = "binlog_pos"
	keyFlavor     = "flavor"
	keyServerID   = "server_id"
	keyAttempt    = "attempt"
	keyBackoff    = "backoff"
)
