//! The calls and returns of a history in time order, as the linearizability search
//! walks them: a doubly linked list from which an op's events are lifted when it is
//! linearized and put back, in O(1), when the search backtracks ("dancing links").

const END: usize = usize::MAX;

pub(crate) struct Timeline {
    /// List nodes: 0 is the head, `1 + e` is event `e`.
    next: Vec<usize>,
    prev: Vec<usize>,
    /// Per list node: the op and whether it is the op's return.
    event: Vec<(usize, bool)>,
    /// Per op: its call's and return's list nodes.
    call_node: Vec<usize>,
    return_node: Vec<Option<usize>>,
}

impl Timeline {
    /// `ops` are (invoke, return time if known), indexed by op.
    pub(crate) fn new(ops: impl ExactSizeIterator<Item = (u64, Option<u64>)>) -> Self {
        let count = ops.len();
        // (time, 0 for a call / 1 for a return, op): calls first on equal times, so
        // ops that merely touch count as concurrent, the lenient reading.
        let mut events: Vec<(u64, u8, usize)> = Vec::with_capacity(count * 2);
        for (i, (invoke, returned)) in ops.enumerate() {
            events.push((invoke, 0, i));
            if let Some(at) = returned {
                // A clock glitch must not put a return before its call.
                events.push((at.max(invoke), 1, i));
            }
        }
        events.sort_unstable();
        let n = events.len();
        let mut t = Timeline {
            next: (1..=n).chain([END]).collect(),
            prev: std::iter::once(END).chain(0..n).collect(),
            event: std::iter::once((END, false))
                .chain(events.iter().map(|&(_, kind, op)| (op, kind == 1)))
                .collect(),
            call_node: vec![0; count],
            return_node: vec![None; count],
        };
        for (e, &(_, kind, op)) in events.iter().enumerate() {
            if kind == 0 {
                t.call_node[op] = e + 1;
            } else {
                t.return_node[op] = Some(e + 1);
            }
        }
        t
    }

    /// The ops whose calls come before the first return still in the list: the ones
    /// that may be linearized next, in invoke order.
    pub(crate) fn open_calls(&self) -> impl Iterator<Item = usize> + '_ {
        let mut node = self.next[0];
        std::iter::from_fn(move || {
            let (op, is_return) = *self.event.get(node)?;
            if is_return {
                return None;
            }
            node = self.next[node];
            Some(op)
        })
    }

    pub(crate) fn lift(&mut self, op: usize) {
        self.unlink(self.call_node[op]);
        if let Some(r) = self.return_node[op] {
            self.unlink(r);
        }
    }

    /// Undoes `lift(op)`; valid only in the reverse order of the lifts.
    pub(crate) fn unlift(&mut self, op: usize) {
        if let Some(r) = self.return_node[op] {
            self.relink(r);
        }
        self.relink(self.call_node[op]);
    }

    fn unlink(&mut self, x: usize) {
        let (p, n) = (self.prev[x], self.next[x]);
        self.next[p] = n;
        if n != END {
            self.prev[n] = p;
        }
    }

    fn relink(&mut self, x: usize) {
        let (p, n) = (self.prev[x], self.next[x]);
        self.next[p] = x;
        if n != END {
            self.prev[n] = x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_calls_stop_at_the_first_return_and_lifting_is_undone() {
        // op 0 [0, 10], op 1 [5, unknown], op 2 [20, 30]
        let mut t = Timeline::new([(0, Some(10)), (5, None), (20, Some(30))].into_iter());
        assert_eq!(t.open_calls().collect::<Vec<_>>(), vec![0, 1]);
        t.lift(0);
        assert_eq!(t.open_calls().collect::<Vec<_>>(), vec![1, 2]);
        t.lift(2);
        assert_eq!(t.open_calls().collect::<Vec<_>>(), vec![1]);
        t.unlift(2);
        t.unlift(0);
        assert_eq!(t.open_calls().collect::<Vec<_>>(), vec![0, 1]);
    }

    #[test]
    fn a_call_and_a_return_at_the_same_time_overlap() {
        let t = Timeline::new([(0, Some(10)), (10, Some(20))].into_iter());
        assert_eq!(t.open_calls().collect::<Vec<_>>(), vec![0, 1]);
    }
}
