//! The iteration order of a Java `ConcurrentHashMap<String, _>`, which is the order
//! ZooKeeper's `mntr` prints the keys of a summary set in (one entry per namespace
//! or per learner). The order follows from the keys alone plus the order they were
//! first inserted, so it can be replayed: `String.hashCode`, the map's hash spreading,
//! a power-of-two table that doubles when it is three quarters full, new entries at
//! the tail of their bin, and the way a resize splits each bin.

/// One bin of the table: (spread hash, index of the key in insertion order).
type Bin = Vec<(u32, usize)>;

/// Java's `String.hashCode`: over UTF-16 code units, wrapping.
pub fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// `ConcurrentHashMap.spread`: the high half folded into the low, sign bit cleared.
fn spread(h: i32) -> u32 {
    ((h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff) as u32
}

/// The keys in the order `keySet()` iterates them, for a map made with the default
/// constructor into which `inserted` were put (each once, in this order) and from
/// which nothing was removed. Bins of eight or more colliding keys, which Java turns
/// into trees, are not modelled: only crafted names collide that much.
pub fn order<'a>(inserted: &[&'a str]) -> Vec<&'a str> {
    let mut table: Vec<Bin> = vec![Vec::new(); 16];
    let mut size_ctl = 12usize;
    for (count, key) in inserted.iter().enumerate() {
        let h = spread(java_hash(key));
        let n = table.len();
        table[h as usize & (n - 1)].push((h, count));
        // addCount: resize while the count reaches the threshold.
        while count + 1 >= size_ctl {
            table = grow(&table);
            let n = table.len();
            size_ctl = n - (n >> 2);
        }
    }
    table.iter().flatten().map(|&(_, i)| inserted[i]).collect()
}

/// `ConcurrentHashMap.transfer`: bin i of a table of n goes to bins i and i + n of the
/// doubled table. The longest tail of the bin whose nodes all go the same way
/// ("lastRun") moves as it is; the nodes before it are pushed, one by one, on the
/// front of their new bin, so they end up reversed ahead of that tail.
fn grow(table: &[Bin]) -> Vec<Bin> {
    let n = table.len();
    let mut next = vec![Vec::new(); n * 2];
    for (i, bin) in table.iter().enumerate() {
        let Some(first) = bin.first() else {
            continue;
        };
        let high = |h: u32| h as usize & n != 0;
        let mut run_bit = high(first.0);
        let mut last_run = 0;
        for (j, node) in bin.iter().enumerate().skip(1) {
            if high(node.0) != run_bit {
                run_bit = high(node.0);
                last_run = j;
            }
        }
        let (mut low, mut hi): (Bin, Bin) = (Vec::new(), Vec::new());
        let tail = bin[last_run..].to_vec();
        if run_bit {
            hi = tail;
        } else {
            low = tail;
        }
        for node in &bin[..last_run] {
            if high(node.0) {
                hi.insert(0, *node);
            } else {
                low.insert(0, *node);
            }
        }
        next[i] = low;
        next[i + n] = hi;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_is_javas() {
        assert_eq!(java_hash(""), 0);
        assert_eq!(java_hash("ops"), 110_258);
        assert_eq!(java_hash("zookeeper"), 1_600_681_804);
        // Wraps like Java's int, over UTF-16 units (values printed by Java 17).
        assert_eq!(java_hash("write_per_namespace_é"), -1_556_753_789);
    }

    // Expected orders printed by Java 17's ConcurrentHashMap (putIfAbsent of each key
    // in turn, then keySet()), see scripts/mntr-order.java.
    #[test]
    fn small_map_orders_by_bucket() {
        assert_eq!(
            order(&["zookeeper", "ops-leader", "ops-follower"]),
            ["zookeeper", "ops-leader", "ops-follower"]
        );
        // Same bin: the first inserted comes first.
        assert_eq!(
            order(&["ops-leader", "zookeeper"]),
            ["ops-leader", "zookeeper"]
        );
    }

    #[test]
    fn resizes_split_bins_as_java_does() {
        let names: Vec<String> = (0..60).map(|i| format!("ns{i}")).collect();
        let keys: Vec<&str> = names.iter().map(String::as_str).collect();
        let want = "ns0 ns2 ns1 ns4 ns3 ns6 ns53 ns5 ns52 ns8 ns51 ns7 ns50 ns13 ns57 ns9 ns12 \
            ns56 ns11 ns55 ns10 ns54 ns17 ns16 ns15 ns59 ns14 ns58 ns19 ns18 ns42 ns41 ns40 ns46 \
            ns45 ns44 ns43 ns49 ns48 ns47 ns31 ns30 ns35 ns34 ns33 ns32 ns39 ns38 ns37 ns36 ns20 \
            ns24 ns23 ns22 ns21 ns28 ns27 ns26 ns25 ns29";
        assert_eq!(order(&keys).join(" "), want);
    }

    #[test]
    fn random_names_match_java() {
        let input = include_str!("chm_test_input.txt");
        let want = include_str!("chm_test_java.txt");
        let mut seen = std::collections::HashSet::new();
        let keys: Vec<&str> = input
            .split_whitespace()
            .filter(|k| seen.insert(*k))
            .collect();
        assert_eq!(order(&keys).join(" "), want.trim());
    }
}
