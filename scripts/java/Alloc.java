// An allocation-heavy Java program for real JVM GC logs (gcwb's
// `import --format jvm-gc-log` fixtures and scripts/java-compare.sh).
//
// For SECONDS seconds (default 1.5) it builds binary trees and drops most of
// them, keeping a bounded map of recent ones live (about LIVE_MB MiB,
// default 16), like gcwb's `binary-trees` workload next to a cache; halfway
// through it calls System.gc() once, for an explicit full collection. It
// prints a line now and then, so its standard output mixed with the GC log
// holds lines that are not GC lines.
//
//   javac -d /tmp/alloc scripts/java/Alloc.java
//   java -Xmx64m -XX:+UseG1GC -Xlog:gc*:stdout -cp /tmp/alloc Alloc [SECONDS] [LIVE_MB]
import java.util.HashMap;
import java.util.Map;

public final class Alloc {
    static final class Node {
        Node left, right;
        int value;

        Node(Node left, Node right, int value) {
            this.left = left;
            this.right = right;
            this.value = value;
        }
    }

    static Node tree(int depth) {
        return depth == 0 ? new Node(null, null, 1) : new Node(tree(depth - 1), tree(depth - 1), depth);
    }

    static int check(Node n) {
        return n.left == null ? n.value : n.value + check(n.left) + check(n.right);
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.5;
        int liveMb = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        // A depth-10 tree is 2047 nodes of ~24 bytes: about 48 KiB.
        int keep = Math.max(1, liveMb * 1024 / 48);
        Map<Integer, Node> live = new HashMap<>();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        boolean forced = false;
        long sum = 0;
        for (int i = 0; System.nanoTime() < end; i++) {
            for (int j = 0; j < 8; j++) {
                sum += check(tree(12)); // garbage at once
            }
            live.put(i % keep, tree(10)); // replaces an old live tree
            if (i % 200 == 0) {
                System.out.println("step " + i + " live trees " + live.size() + " checksum " + sum);
            }
            if (!forced && System.nanoTime() - start > (end - start) / 2) {
                forced = true;
                System.out.println("calling System.gc()");
                System.gc();
            }
        }
        System.out.println("done: " + live.size() + " live trees, checksum " + sum);
    }
}
