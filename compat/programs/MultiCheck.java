// The Java client library's multi against a server: an atomic batch that succeeds,
// and one that fails and must leave nothing behind. Run by compat/test_clients.py;
// prints one line per check and exits non-zero on the first failure.
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

public class MultiCheck {
    static void check(boolean ok, String what) {
        System.out.println((ok ? "ok " : "FAILED ") + what);
        if (!ok) System.exit(1);
    }

    public static void main(String[] args) throws Exception {
        String root = args[1];
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(args[0], 10000, e -> {
            if (e.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        check(connected.await(20, TimeUnit.SECONDS), "connected");
        zk.create(root, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        List<OpResult> results = zk.multi(Arrays.asList(
            Op.create(root + "/a", "1".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
            Op.create(root + "/a/b", "2".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
            Op.setData(root + "/a", "3".getBytes(), 0),
            Op.check(root + "/a", 1)));
        check(results.size() == 4, "multi of 4 operations gave 4 results");
        check(new String(zk.getData(root + "/a", false, null)).equals("3"), "multi applied setData");
        try {
            zk.multi(Arrays.asList(
                Op.create(root + "/c", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.delete(root + "/missing", -1)));
            check(false, "a multi with a failing delete was refused");
        } catch (KeeperException.NoNodeException e) {
            List<OpResult> failed = e.getResults();
            check(failed != null && failed.size() == 2, "failed multi reports per-operation results");
        }
        check(zk.exists(root + "/c", false) == null, "failed multi left nothing behind");
        zk.close();
        System.out.println("done");
    }
}
