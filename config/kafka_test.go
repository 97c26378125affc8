package config

import (
	"strings"
	"testing"
)

func TestFromMap_MaxRequestSize(t *testing.T) {
	c, _ := mustFromMap(t, with("max.request.size", "2000000", "producer.override.max.request.size", "5242880"))
	if c.Kafka.MaxRequestSize != 5242880 {
		t.Errorf("MaxRequestSize = %d, want the connector override 5242880", c.Kafka.MaxRequestSize)
	}
	c, _ = mustFromMap(t, with("producer.max.request.size", "2000000"))
	if c.Kafka.MaxRequestSize != 2000000 {
		t.Errorf("MaxRequestSize = %d, want 2000000", c.Kafka.MaxRequestSize)
	}
	if _, _, err := FromMap(with("max.request.size", "1MB")); err == nil || !strings.Contains(err.Error(), "max.request.size") {
		t.Errorf("err = %v, want one naming max.request.size", err)
	}
}
