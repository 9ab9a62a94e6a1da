/* The C client library's zoo_multi against a server: an atomic batch that succeeds,
 * and one that fails and must leave nothing behind. Run by compat/test_clients.py;
 * prints one line per check and exits non-zero on the first failure. */
#define THREADED
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "FAILED", what);
    fflush(stdout);
    if (!ok) exit(1);
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    const char *root = argv[2];
    char a[512], b[512], c[512], missing[512], buf[64];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(b, sizeof b, "%s/a/b", root);
    snprintf(c, sizeof c, "%s/c", root);
    snprintf(missing, sizeof missing, "%s/missing", root);
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zhandle_t *zh = zookeeper_init(argv[1], NULL, 10000, 0, NULL, 0);
    check(zh != NULL, "handle");
    for (int i = 0; i < 200 && zoo_state(zh) != ZOO_CONNECTED_STATE; i++) usleep(50000);
    check(zoo_state(zh) == ZOO_CONNECTED_STATE, "connected");
    check(zoo_create(zh, root, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0) == ZOK, "create root");

    zoo_op_t ops[4];
    zoo_op_result_t results[4];
    char p1[512], p2[512];
    zoo_create_op_init(&ops[0], a, "1", 1, &ZOO_OPEN_ACL_UNSAFE, 0, p1, sizeof p1);
    zoo_create_op_init(&ops[1], b, "2", 1, &ZOO_OPEN_ACL_UNSAFE, 0, p2, sizeof p2);
    zoo_set_op_init(&ops[2], a, "3", 1, 0, NULL);
    zoo_check_op_init(&ops[3], a, 1);
    check(zoo_multi(zh, 4, ops, results) == ZOK, "multi of 4 operations");
    int len = sizeof buf;
    check(zoo_get(zh, a, 0, buf, &len, NULL) == ZOK && len == 1 && buf[0] == '3', "multi applied set");

    zoo_op_t bad[2];
    zoo_op_result_t bad_results[2];
    char p3[512];
    zoo_create_op_init(&bad[0], c, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, p3, sizeof p3);
    zoo_delete_op_init(&bad[1], missing, -1);
    int rc = zoo_multi(zh, 2, bad, bad_results);
    check(rc == ZNONODE, "a multi with a failing delete is refused with ZNONODE");
    check(bad_results[1].err == ZNONODE, "per-operation result names the failing delete");
    check(zoo_exists(zh, c, 0, NULL) == ZNONODE, "failed multi left nothing behind");
    zookeeper_close(zh);
    printf("done\n");
    return 0;
}
