// The Java client library holding a session across a server swap: it creates an
// ephemeral node, sets a data watch, and waits. When the server behind its address
// goes away and another comes up there, the library reconnects with the same session
// id and password and sends setWatches; this program then reports the session, the
// ephemeral as the new server shows it, and the watch when it fires.
// Run by compat/test_import.py; prints one line per step ("ready", "reconnected",
// "ephemeral", "fired") and exits non-zero if a step does not come.
// Arguments: connectString ephemeralPath watchedPath.
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public class SessionHold {
    static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static void fail(String what) {
        say("FAILED " + what);
        System.exit(1);
    }

    public static void main(String[] args) throws Exception {
        String ephemeral = args[1];
        String watched = args[2];
        LinkedBlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(args[0], 30000, e -> {
            if (e.getType() == EventType.None && e.getState() == KeeperState.SyncConnected) {
                connected.countDown();
            }
            events.add(e);
        });
        if (!connected.await(30, TimeUnit.SECONDS)) fail("no connection");
        zk.create(ephemeral, "java".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        zk.getData(watched, true, null);
        long session = zk.getSessionId();
        say("ready 0x" + Long.toHexString(session));
        // The old server goes away (Disconnected), then the new one takes the session back.
        boolean disconnected = false;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            WatchedEvent e = events.poll(until - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (e == null) fail("no reconnect (disconnected=" + disconnected + ")");
            if (e.getType() != EventType.None) fail("event before the reconnect: " + e);
            if (e.getState() == KeeperState.Expired) fail("session expired");
            if (e.getState() == KeeperState.Disconnected) disconnected = true;
            if (disconnected && e.getState() == KeeperState.SyncConnected) break;
        }
        say("reconnected 0x" + Long.toHexString(zk.getSessionId()));
        Stat stat = zk.exists(ephemeral, false);
        if (stat == null) fail("ephemeral " + ephemeral + " is gone");
        say("ephemeral owner 0x" + Long.toHexString(stat.getEphemeralOwner()));
        // The watch set before the swap, carried over by setWatches: it fires on the
        // next change, which the test makes after reading "ephemeral".
        while (true) {
            WatchedEvent e = events.poll(until - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (e == null) fail("the data watch did not fire");
            if (e.getType() == EventType.None) {
                if (e.getState() != KeeperState.SyncConnected) fail("connection: " + e.getState());
                continue;
            }
            say("fired " + e.getType() + " " + e.getPath());
            break;
        }
        zk.close();
        say("done");
    }
}
