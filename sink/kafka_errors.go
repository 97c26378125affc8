package sink

import (
	"errors"
	"io"
	"net"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

var errTopicExists = kerr.TopicAlreadyExists

// classifyProduceError wraps the final error of a record. franz-go retries
// retryable broker errors itself (kerr.IsRetriable) for as long as the
// record may be retried, so what reaches a promise is final: a
// non-retryable broker error, an exhausted retry, or the client closing.
func classifyProduceError(r *kgo.Record, err error) error {
	return &ProduceError{Topic: r.Topic, Partition: r.Partition, Err: err, Hint: produceHint(err)}
}

// produceHint names the fix for the errors users meet most.
func produceHint(err error) string {
	switch {
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		return "a record is larger than the producer's max.request.size, the topic's max.message.bytes or the broker's message.max.bytes; raise them together (producer.override.max.request.size for Rivulet), or exclude large columns with column.exclude.list"
	case errors.Is(err, kerr.TopicAuthorizationFailed):
		return "the Kafka principal lacks WRITE on this topic; grant it (and CREATE if Rivulet creates topics)"
	case errors.Is(err, kerr.ClusterAuthorizationFailed):
		return "the idempotent producer needs IDEMPOTENT_WRITE on the cluster (implied by WRITE on all topics in Kafka 3.x); grant it"
	case errors.Is(err, kerr.TransactionalIDAuthorizationFailed):
		return "the Kafka principal lacks rights on the transactional id"
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
		return "the topic does not exist and was not created; create it, or allow Rivulet to create topics"
	case errors.Is(err, kerr.InvalidTopicException):
		return "the topic name is not valid for Kafka"
	case errors.Is(err, kerr.PolicyViolation):
		return "a broker policy refused the request; check the topic configuration the policy requires"
	case errors.Is(err, kerr.InvalidRequiredAcks), errors.Is(err, kerr.NotEnoughReplicas), errors.Is(err, kerr.NotEnoughReplicasAfterAppend):
		return "fewer in-sync replicas than the topic's min.insync.replicas; check the brokers"
	case errors.Is(err, kerr.OutOfOrderSequenceNumber), errors.Is(err, kerr.InvalidProducerEpoch), errors.Is(err, kerr.UnknownProducerID):
		return "the idempotent producer lost its sequence (often after topic deletion or retention); restart from the last committed offset"
	case errors.Is(err, kerr.InvalidRecord), errors.Is(err, kerr.CorruptMessage):
		return "the broker rejected the record (for compacted topics every record needs a key: tables without a primary key need message.key.columns)"
	case errors.Is(err, kgo.ErrClientClosed):
		return "the sink was closed before Kafka acknowledged the record; it will be sent again after restart"
	case errors.Is(err, kgo.ErrRecordTimeout), errors.Is(err, kgo.ErrRecordRetries):
		return "Kafka did not acknowledge in time; check broker health and connectivity"
	}
	return ""
}

// topicHint explains a topic creation failure.
func topicHint(err error) string {
	switch {
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
		return "the Kafka principal may not create topics; grant CREATE or create the topic beforehand"
	case errors.Is(err, kerr.InvalidReplicationFactor):
		return "the replication factor exceeds the number of brokers; lower topic.creation.default.replication.factor"
	case errors.Is(err, kerr.InvalidPartitions):
		return "invalid partition count; check topic.creation.default.partitions"
	case errors.Is(err, kerr.PolicyViolation):
		return "a broker policy refused the topic; create it beforehand"
	}
	return produceHint(err)
}

// transientBrokerErr reports whether an admin request (topic creation) may
// succeed when sent again: the brokers were unreachable (dial refused,
// connection reset or closed) or answered with a retriable Kafka error.
// franz-go's own IsRetryableBrokerErr leaves dial errors out on purpose,
// for its callers to decide: a topic waiting for a restarting broker wants
// them retried.
func transientBrokerErr(err error) bool {
	if errors.Is(err, kgo.ErrClientClosed) {
		return false
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Retriable
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || kgo.IsRetryableBrokerErr(err)
}
