package dev.rivulet.testdeps;

import com.mysql.cj.MysqlConnection;
import com.mysql.cj.Query;
import com.mysql.cj.conf.ConnectionPropertiesTransform;
import com.mysql.cj.interceptors.QueryInterceptor;
import com.mysql.cj.log.Log;
import com.mysql.cj.protocol.Resultset;
import com.mysql.cj.protocol.ServerSession;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import java.util.function.Supplier;

/**
 * Lets Debezium 3.6.1's MySqlConnector read a MariaDB server (Debezium moved
 * MariaDB to debezium-connector-mariadb, which Maven Central does not serve
 * here). The MySQL connector asks for the binlog position with
 * {@code SHOW BINARY LOG STATUS}; MariaDB answers that with a syntax error,
 * and the connector then refuses every server whose VERSION() reads 8.4 or
 * later, which MariaDB's 10.x and 11.x do ("MySQL version 10.11.19-MariaDB
 * should support SHOW BINARY LOG STATUS but it failed").
 *
 * <p>This Connector/J query interceptor answers that one statement with
 * MariaDB's {@code SHOW MASTER STATUS} (same columns, File and Position
 * first) and leaves every other statement alone. Debezium drops a
 * {@code queryInterceptors} driver property (so that a connector
 * configuration cannot load code into the driver), so the class is also a
 * properties transform that installs itself: enable it with the connector
 * property
 * {@code driver.propertiesTransform=dev.rivulet.testdeps.MariaDbBinlogStatus}.
 * For test and benchmark runs only.
 */
public final class MariaDbBinlogStatus implements QueryInterceptor, ConnectionPropertiesTransform {
    private Connection conn;

    @Override
    public Properties transformProperties(Properties props) {
        props.setProperty("queryInterceptors", MariaDbBinlogStatus.class.getName());
        return props;
    }

    @Override
    public QueryInterceptor init(MysqlConnection c, Properties props, Log log) {
        this.conn = (Connection) c;
        return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends Resultset> T preProcess(Supplier<String> sql, Query query) {
        String q = sql.get();
        if (q == null || !q.trim().equalsIgnoreCase("SHOW BINARY LOG STATUS")) {
            return null; // run the statement as it is
        }
        try {
            // Not closed here: closing the statement would close the result
            // the caller reads. It is released with the connection.
            return (T) conn.createStatement().executeQuery("SHOW MASTER STATUS");
        } catch (SQLException e) {
            throw new IllegalStateException("SHOW MASTER STATUS in place of SHOW BINARY LOG STATUS: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean executeTopLevelOnly() {
        return true; // the nested SHOW MASTER STATUS is not intercepted again
    }

    @Override
    public void destroy() {
        conn = null;
    }

    @Override
    public <T extends Resultset> T postProcess(Supplier<String> sql, Query query, T result, ServerSession session) {
        return null; // keep the original result
    }
}
