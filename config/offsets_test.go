package config

import "testing"

func TestFromMap_OffsetTopic(t *testing.T) {
	c, _ := mustFromMap(t, with("-offset.storage.file.filename", "", "offset.storage.topic", "connect-offsets",
		"offset.storage.partitions", "3", "offset.storage.replication.factor", "1"))
	if c.Offsets.Topic != "connect-offsets" || c.Offsets.FileFilename != "" {
		t.Fatalf("Offsets = %+v, want the topic store", c.Offsets)
	}
	if c.Offsets.TopicPartitions != 3 || c.Offsets.TopicReplicationFactor != 1 {
		t.Errorf("partitions, replication = %d, %d; want 3, 1", c.Offsets.TopicPartitions, c.Offsets.TopicReplicationFactor)
	}
	d, _ := mustFromMap(t, with("-offset.storage.file.filename", "", "offset.storage.topic", "connect-offsets"))
	if d.Offsets.TopicPartitions != 25 || d.Offsets.TopicReplicationFactor != -1 {
		t.Errorf("default partitions, replication = %d, %d; want 25, -1 (Kafka Connect, broker default)", d.Offsets.TopicPartitions, d.Offsets.TopicReplicationFactor)
	}
}
