// Package ddlcorpus replays DDL corpora against a real MariaDB while
// Rivulet's binlog reader and schema tracker stream (issue 17), and checks
// that the tracked model equals information_schema for every table left
// after each file and that the last row of every table with rows decoded.
//
// The corpus is MariaDB's own mysql-test suite (Debian's mariadb-test
// package: /usr/share/mysql/mysql-test), every *.test file replayed with
// the suite's own interpreter, mariadb-test (mysqltest), run with
// --continue-on-error as a user without SUPER, SHUTDOWN, RELOAD and BINLOG
// ADMIN so that no file can stop the server, purge the binlog or switch the
// binlog format; root, which the files may log in as over TCP, loses the
// same privileges. A file after which the corpus
// or harness accounts no longer log in with their privileges (one that
// rewrites the grant tables), or for which mariadb-test cannot log in,
// makes the server start again from a copy of its first data directory
// (the reader and tracker start anew, as after a crash); a file that still
// cannot log in fails the test. It prints statements seen, parsed, passed over without a
// parse, column-neutral statements the parser could not read, statements
// resolved by each fallback, and stops (statements that would have stopped
// Rivulet).
//
// Tables are compared at checkpoints: mariadb-test calls back into the
// test (an --exec inserted into a copy of each file) before every
// statement that drops tables, and once more at the end of the file, so
// the tables a file builds are compared before its own cleanup drops them.
//
// RIVULET_DDL_CORPUS selects the files: unset, a small sample (make test);
// "all", every file (make test-ddl-corpus); otherwise a comma-separated
// list of globs relative to the mysql-test directory ("main/alter*.test").
// RIVULET_DDL_CORPUS_STRIDE=n replays every n-th file of the selection,
// RIVULET_DDL_CORPUS_SHARD=k/n keeps the k-th of n interleaved parts of
// that (n processes, each starting its own server, share the corpus),
// RIVULET_DDL_CORPUS_FILE_TIMEOUT=90s kills a file after that long (default 3m),
// RIVULET_DDL_CORPUS_BUDGET=30m stops starting new files after that long,
// RIVULET_DDL_CORPUS_VERBOSE=1 logs every file and mariadb-test's output.
//
// It is a test-only package: nothing here is imported by Rivulet.
package ddlcorpus
