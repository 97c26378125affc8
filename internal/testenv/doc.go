// Package testenv gives integration tests throwaway infrastructure on the
// loopback interface: a real mariadbd with the binary log in ROW/FULL mode
// (one shared server per test binary, or extra servers a test owns and may
// stop, kill and restart) and in-process Kafka clusters (kfake).
//
// Every package that uses it calls Main from its TestMain, so that servers are
// stopped and goroutine leaks are checked once all tests have run:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Tests that need MariaDB skip under -short; without mariadbd installed they
// fail with the command that installs it. Main types: Server (MariaDB) and
// the functions MariaDB, StartMariaDB, Kafka and KafkaCluster.
//
// testenv is for tests only: nothing outside _test.go files may import it. It
// imports nothing of ours.
package testenv
