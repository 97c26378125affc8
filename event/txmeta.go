package event

// Tx is the transaction block Debezium adds to every change event when
// provide.transaction.metadata is on (TransactionStructMaker, schema
// event.block): the transaction's id, the event's position among all the
// transaction's events and among those of its table, both from 1.
type Tx struct {
	ID                  string
	TotalOrder          int64
	DataCollectionOrder int64
}

// TxStatus is a transaction boundary's status.
type TxStatus uint8

// Transaction boundary statuses (TransactionStatus).
const (
	TxBegin TxStatus = iota + 1
	TxEnd
)

func (s TxStatus) String() string {
	if s == TxEnd {
		return "END"
	}
	return "BEGIN"
}

// Transaction is a BEGIN or END record of the transaction topic
// (<topic.prefix>.transaction): TransactionMetadataValue in Debezium.
type Transaction struct {
	Status TxStatus
	ID     string
	// TsMs is the boundary's time at the source, milliseconds since the epoch.
	TsMs int64
	// EventCount and DataCollections are set on END only: the events the
	// transaction emitted, in total and per table ("db.table"), in the
	// order Debezium lists them.
	EventCount      int64
	DataCollections []TxCollection
}

// TxCollection is one data_collections entry of an END record.
type TxCollection struct {
	DataCollection string
	EventCount     int64
}
