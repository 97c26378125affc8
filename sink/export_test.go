package sink

// The Kafka test helpers, for the Kafka transport's tests with the Avro
// format (kafka_avro_test.go, package sink_test: sink/avro imports sink).
var (
	KafkaEvents  = kafkaEvents
	NewCluster   = newCluster
	NewKafkaSink = newKafka
	DoneCh       = doneCh
	Wait         = wait
	Consume      = consume
	TestEncoding = testEncoding
)
