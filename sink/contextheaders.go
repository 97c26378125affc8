package sink

// ContextHeaders returns the headers Debezium 3.2+ puts on every change
// event record when extended.headers.enabled is true (its default):
// DebeziumHeaderProducer.contextHeaders, string values written by Connect's
// SimpleHeaderConverter as their UTF-8 bytes. logicalName is topic.prefix;
// Rivulet is one task, "0", as a Debezium MySQL connector always is.
func ContextHeaders(c Connector, logicalName string) []Header {
	return []Header{
		{Key: "__debezium.context.connectorLogicalName", Value: []byte(logicalName)},
		{Key: "__debezium.context.taskId", Value: []byte("0")},
		{Key: "__debezium.context.connectorName", Value: []byte(c.String())},
	}
}
