package sink

import "github.com/rivulet-cdc/rivulet/schema"

// MariaDB's fixed-size binary types, decoded to the text the server prints
// (binlog appendFixedBin, the snapshot reads the same text):
//   - UUID is io.debezium.data.Uuid, a string (debezium-connector-mariadb
//     MariaDbValueConverters.schemaBuilder / convertUuid, data/Uuid).
//   - INET4 and INET6 have no data type in Debezium 3.x's MariaDB grammar
//     (a table holding one cannot be captured by Debezium); Rivulet emits
//     their text as a plain string, as a VARCHAR would be.
func init() {
	typeMappers[schema.TypeInet4] = fixed(kString, ConnectSchema{typ: "string"})
	typeMappers[schema.TypeInet6] = fixed(kString, ConnectSchema{typ: "string"})
	typeMappers[schema.TypeUUID] = fixed(kString, ConnectSchema{typ: "string", name: "io.debezium.data.Uuid", version: 1})
}
