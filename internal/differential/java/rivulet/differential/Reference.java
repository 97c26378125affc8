package rivulet.differential;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;

import java.io.BufferedOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.storage.Converter;
import org.apache.kafka.connect.storage.HeaderConverter;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;

/**
 * The Debezium reference run of Rivulet's differential suite.
 *
 * <p>Runs Debezium's embedded engine with the connector properties of args[0]
 * and writes every record it emits to args[1], one JSON line per record, in the
 * order the engine hands them over:
 * {"topic":..,"partition":n|null,"key":base64|null,"value":base64|null,"headers":[[name,base64|null],..]}.
 * Records are converted the way a Kafka Connect worker converts them before its
 * producer sees them: key and value with the converter classes key.converter and
 * value.converter name (JsonConverter by default; Confluent's AvroConverter when
 * its jars are on the classpath), each configured from its key.converter.* or
 * value.converter.* properties (schemas.enable, decimal.format, schema.registry.url),
 * headers with Connect's default SimpleHeaderConverter. Transforms named by the properties run inside the engine.
 *
 * <p>The file is flushed after every batch. The run stops when standard input
 * ends (the Go test closes it once it saw what it waited for); a failed engine
 * prints its error on standard error and exits with status 3.
 */
public final class Reference {
    private Reference() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: Reference <engine.properties> <records.jsonl>");
            System.exit(2);
        }
        Properties props = new Properties();
        try (Reader r = new InputStreamReader(new FileInputStream(args[0]), StandardCharsets.UTF_8)) {
            props.load(r);
        }
        Converter keyConv = converter(props, "key.converter.", true);
        Converter valueConv = converter(props, "value.converter.", false);
        HeaderConverter headerConv = new SimpleHeaderConverter();
        headerConv.configure(new HashMap<>());

        OutputStream out = new BufferedOutputStream(new FileOutputStream(args[1]), 1 << 16);
        CountDownLatch finished = new CountDownLatch(1);
        String[] failure = new String[1];

        DebeziumEngine<RecordChangeEvent<SourceRecord>> engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(props)
                .using((success, message, error) -> {
                    if (!success) {
                        StringBuilder b = new StringBuilder(message == null ? "engine failed" : message);
                        for (Throwable t = error; t != null; t = t.getCause()) {
                            b.append("\ncaused by: ").append(t);
                        }
                        failure[0] = b.toString();
                    }
                    finished.countDown();
                })
                .notifying((List<RecordChangeEvent<SourceRecord>> batch,
                        DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) -> {
                    try {
                        for (RecordChangeEvent<SourceRecord> ev : batch) {
                            write(out, ev.record(), keyConv, valueConv, headerConv);
                            committer.markProcessed(ev);
                        }
                        out.flush();
                    } catch (IOException e) {
                        throw new UncheckedIOException("write " + args[1], e);
                    }
                    committer.markBatchFinished();
                })
                .build();

        ExecutorService exec = Executors.newSingleThreadExecutor();
        exec.execute(engine);

        // Stop when stdin ends or the engine finished by itself.
        Thread stdin = new Thread(() -> {
            try {
                InputStream in = System.in;
                while (in.read() >= 0) {
                    // discard
                }
            } catch (IOException ignored) {
                // treat as end of input
            }
            try {
                engine.close();
            } catch (IOException e) {
                System.err.println("reference: close engine: " + e);
            }
        }, "stdin-watch");
        stdin.setDaemon(true);
        stdin.start();

        finished.await();
        exec.shutdown();
        exec.awaitTermination(60, TimeUnit.SECONDS);
        out.close();
        if (failure[0] != null) {
            System.err.println("reference: " + failure[0]);
            System.exit(3);
        }
        System.exit(0);
    }

    /**
     * The converter a Connect worker builds from its key.converter or
     * value.converter setting (JsonConverter when unset), configured from the
     * key.converter.* or value.converter.* settings.
     */
    private static Converter converter(Properties props, String prefix, boolean isKey) throws ReflectiveOperationException {
        Map<String, Object> cfg = new HashMap<>();
        for (String k : props.stringPropertyNames()) {
            if (k.startsWith(prefix)) {
                cfg.put(k.substring(prefix.length()), props.getProperty(k));
            }
        }
        String cls = props.getProperty(prefix.substring(0, prefix.length() - 1), JsonConverter.class.getName());
        Converter c = (Converter) Class.forName(cls).getDeclaredConstructor().newInstance();
        c.configure(cfg, isKey);
        return c;
    }

    private static void write(OutputStream out, SourceRecord r, Converter keyConv, Converter valueConv,
            HeaderConverter headerConv) throws IOException {
        String topic = r.topic();
        org.apache.kafka.common.header.internals.RecordHeaders kh = new org.apache.kafka.common.header.internals.RecordHeaders();
        StringBuilder hs = new StringBuilder("[");
        boolean first = true;
        for (Header h : r.headers()) {
            byte[] v = headerConv.fromConnectHeader(topic, h.key(), h.schema(), h.value());
            if (!first) {
                hs.append(',');
            }
            first = false;
            hs.append('[').append(quote(h.key())).append(',').append(b64(v)).append(']');
        }
        hs.append(']');
        byte[] key = keyConv.fromConnectData(topic, kh, r.keySchema(), r.key());
        byte[] value = valueConv.fromConnectData(topic, kh, r.valueSchema(), r.value());
        StringBuilder b = new StringBuilder(256);
        b.append("{\"topic\":").append(quote(topic))
                .append(",\"partition\":").append(r.kafkaPartition() == null ? "null" : r.kafkaPartition().toString())
                .append(",\"key\":").append(b64(key))
                .append(",\"value\":").append(b64(value))
                .append(",\"headers\":").append(hs)
                .append("}\n");
        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String b64(byte[] b) {
        return b == null ? "null" : "\"" + Base64.getEncoder().encodeToString(b) + "\"";
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
