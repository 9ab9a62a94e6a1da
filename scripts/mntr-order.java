// Prints the order in which ZooKeeper 3.8's mntr lists its ServerMetrics, as the
// Rust table of crates/server/src/telemetry/server_metrics/order.rs, by registering
// ServerMetrics with a DefaultMetricsProvider from the installed ZooKeeper jar and
// dumping it.
//
//   CP=$(cd compat && python3 -c 'import servers; print(servers.zk_classpath())')
//   java -cp "$CP" scripts/mntr-order.java            # the ORDER table
//   java -cp "$CP" scripts/mntr-order.java chm a b c  # a ConcurrentHashMap's key order
//                                                      # after putIfAbsent(a), (b), (c)
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.zookeeper.metrics.impl.DefaultMetricsProvider;
import org.apache.zookeeper.server.ServerMetrics;

public class MntrOrder {
    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("chm")) {
            ConcurrentHashMap<String, Integer> m = new ConcurrentHashMap<>();
            for (int i = 1; i < args.length; i++) {
                m.putIfAbsent(args[i], i);
            }
            System.out.println(String.join(" ", m.keySet()));
            return;
        }
        DefaultMetricsProvider provider = new DefaultMetricsProvider();
        ServerMetrics.metricsProviderInitialized(provider);
        List<String> keys = new ArrayList<>();
        provider.dump((k, v) -> keys.add(k));
        for (int i = 0; i < keys.size(); ) {
            String k = keys.get(i);
            if (!k.startsWith("avg_")) {
                System.out.println("    (\"" + k + "\", Counter),");
                i += 1;
                continue;
            }
            String name = k.substring(4);
            boolean percentiles = i + 5 < keys.size() && keys.get(i + 5).equals("p50_" + name);
            System.out.println("    (\"" + name + "\", " + (percentiles ? "Percentile" : "Summary") + "),");
            i += percentiles ? 9 : 5;
        }
    }
}
