package binlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// newInstanceName returns the host name this Reader reports when it
// registers as a replica: unique per process, so that SHOW SLAVE HOSTS
// tells our registrations from another replica's.
func newInstanceName() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "rivulet-" + hex.EncodeToString(b[:])
}

// checkServerID refuses to register when another replica is connected with
// our server id: registering would make the server drop that replica, which
// would reconnect and drop us in turn. A registration left by a process that
// died (kill -9) stays listed until the server next writes to it (a
// heartbeat), so a clash is re-checked for a while before it is final.
func (r *Reader) checkServerID(ctx context.Context) error {
	wait := 2*r.cfg.HeartbeatPeriod + 5*time.Second
	deadline := time.Now().Add(wait)
	logged := false
	for {
		other, err := r.otherReplica(ctx)
		if err != nil || other == "" {
			return nil // not listable (privileges): the server's own error will tell
		}
		if time.Now().After(deadline) {
			return &Error{Kind: ErrServerID,
				Msg:  fmt.Sprintf("another replica (host %q) is connected with database.server.id %d", other, r.cfg.ServerID),
				Hint: "give each connector and replica of this server its own database.server.id; Rivulet does not take a server id in use, which would make the two disconnect each other in turn"}
		}
		if !logged {
			r.log.Info("another replica is registered with our server id; waiting in case it is a stopped process the server has not reaped yet",
				slog.String("replica_host", other), slog.Uint64("server_id", uint64(r.cfg.ServerID)), slog.Duration("up_to", wait))
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// otherReplica returns the reported host of a replica registered with our
// server id that is not this Reader, or "".
func (r *Reader) otherReplica(ctx context.Context) (string, error) {
	c, err := r.query(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	res, err := c.Execute("SHOW SLAVE HOSTS")
	if err != nil {
		if res, err = c.Execute("SHOW REPLICAS"); err != nil {
			return "", err
		}
	}
	defer res.Close()
	idCol, hostCol := -1, -1
	for i, f := range res.Fields {
		switch string(f.Name) {
		case "Server_id", "Server_Id":
			idCol = i
		case "Host":
			hostCol = i
		}
	}
	if idCol < 0 || hostCol < 0 {
		return "", nil
	}
	want := strconv.FormatUint(uint64(r.cfg.ServerID), 10)
	for row := range res.RowNumber() {
		id, _ := cloned(res.GetString(row, idCol))
		host, _ := cloned(res.GetString(row, hostCol))
		if id == want && host != r.instance {
			if host == "" {
				host = "(not reported)"
			}
			return host, nil
		}
	}
	return "", nil
}
