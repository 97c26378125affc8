// Package testenv gives integration tests throwaway infrastructure on the
// loopback interface: a real mariadbd with the binary log in ROW/FULL mode
// (one shared server per test binary, or extra servers a test owns and may
// stop, kill and restart), real Apache Kafka 4.3 clusters in KRaft mode (one
// shared single-node broker per test binary, or 1..n-node clusters a test
// owns), Kafka Connect standalone workers running Debezium 3.6.1's
// MySqlConnector as the reference, a real schema registry with Confluent's
// REST API (Apicurio Registry 3.3, one shared per test binary or one a test
// owns), and in-process Kafka clusters (kfake) for fast unit tests and
// scripted broker failures. The Java parts come from jars scripts/testdeps.sh
// fetches into a cache outside the repository.
//
// Every package that uses it calls Main from its TestMain, so that servers are
// stopped and goroutine leaks are checked once all tests have run:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Tests that need MariaDB skip under -short; without mariadbd installed they
// fail with the command that installs it; the same holds for java and the
// Kafka jars. Main types: Server (MariaDB), KRaftCluster (Apache Kafka),
// ConnectWorker (Kafka Connect), SchemaRegistry and the functions MariaDB,
// StartMariaDB, ApacheKafka, StartApacheKafka, StartConnect, SharedRegistry,
// StartRegistry, Kafka and KafkaCluster (kfake); Launch, LaunchApacheKafka,
// LaunchConnect and LaunchRegistry serve callers without a testing.TB
// (internal/bench).
//
// testenv is for tests only: nothing outside _test.go files may import it. It
// imports nothing of ours.
package testenv
