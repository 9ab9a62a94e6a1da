//! A generic linearizability checker: the Wing–Gong search with Lowe's memoization,
//! as in Porcupine and Knossos.
//!
//! Calls and returns are laid out in time order in a doubly linked list. The search
//! linearizes, one at a time, a pending call that was invoked before the earliest
//! pending return (any later call cannot precede that op), steps the model, and
//! backtracks when nothing can be placed. A node is the set of ops linearized plus
//! the model state; a node seen before has already failed, so it is not explored
//! again: that is what makes the search scale with concurrency, not history length.
//!
//! An op whose outcome is unknown has no return: it may be linearized anywhere after
//! its invoke, or never (placing it after everything is the same as never). Three
//! reductions keep such ops from multiplying the search, each keeping every
//! linearization in some equivalent form:
//! - an unknown op that would not change the state is not placed (placing it later,
//!   or never, is as good);
//! - of unknown ops with equal inputs only the earliest-invoked unplaced one is a
//!   candidate (they are interchangeable, and the earlier one is available whenever
//!   the later is); callers make inputs equal where the difference is unobservable;
//! - a node where some pending op can never be accepted any more
//!   (`Model::may_still_accept`) is abandoned at once.
//!
//! The memo holds 128-bit fingerprints of nodes, not the nodes: a collision could
//! only prune a node wrongly (a false violation, never a false pass), with odds
//! around `states² / 2¹²⁸`.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use super::timeline::Timeline;

/// A sequential specification.
pub trait Model {
    type State: Clone + Eq + Hash;
    type Input: Eq + Hash;
    type Output;

    fn init(&self) -> Self::State;

    /// The state after `input` ran in `state` and returned `output`, or `None` if it
    /// could not have returned that there. `output` is `None` when the outcome is
    /// unknown: then `step` must accept whatever the call could have returned.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// False only if no sequence of steps from `state` can reach a state where this
    /// op is accepted; lets the search abandon hopeless nodes early.
    fn may_still_accept(
        &self,
        _state: &Self::State,
        _input: &Self::Input,
        _output: &Self::Output,
    ) -> bool {
        true
    }
}

/// One call as the checker sees it.
#[derive(Debug, Clone)]
pub struct Operation<I, O> {
    pub invoke: u64,
    /// When it returned and what; `None` if the outcome is unknown.
    pub returned: Option<(u64, O)>,
    pub input: I,
}

/// Where the search got furthest: the longest linearizable prefix it found.
#[derive(Debug, Clone)]
pub struct Stuck<S> {
    /// How many ops with a known outcome the prefix placed.
    pub linearized: usize,
    /// The last ops of the prefix (indices into the ops given), oldest first.
    pub last: Vec<usize>,
    /// Ops with a known outcome pending at that point, none of which could be placed.
    pub pending: Vec<usize>,
    /// Unknown ops that could have taken effect there (one per distinct input).
    pub pending_unknown: Vec<usize>,
    /// The model's state after the prefix.
    pub state: S,
}

#[derive(Debug, Clone)]
pub enum Verdict<S> {
    Linearizable {
        explored: usize,
    },
    NotLinearizable {
        explored: usize,
        stuck: Stuck<S>,
    },
    /// The search visited `explored` states, its budget, without an answer.
    Inconclusive {
        explored: usize,
        stuck: Stuck<S>,
    },
}

/// How many ops of the prefix a `Stuck` shows.
const SHOW_LAST: usize = 4;

/// Judges `ops` against `model`, visiting at most `budget` states.
pub fn check<M: Model>(
    model: &M,
    ops: &[Operation<M::Input, M::Output>],
    budget: usize,
) -> Verdict<M::State> {
    Search::new(model, ops).run(budget)
}

struct Search<'a, M: Model> {
    model: &'a M,
    ops: &'a [Operation<M::Input, M::Output>],
    timeline: Timeline,
    /// Per op: random bits whose XOR over a set identifies the set (Zobrist).
    zobrist: Vec<u128>,
    /// Per unknown op: a class shared with the unknown ops of equal input.
    class: Vec<usize>,
    /// Per class: the last `visit` that took a candidate of it.
    class_seen: Vec<usize>,
    visit: usize,
}

struct Frame<S> {
    op: usize,
    before: S,
    candidates: Vec<usize>,
    tried: usize,
}

impl<'a, M: Model> Search<'a, M> {
    fn new(model: &'a M, ops: &'a [Operation<M::Input, M::Output>]) -> Self {
        let timeline = Timeline::new(
            ops.iter()
                .map(|op| (op.invoke, op.returned.as_ref().map(|(at, _)| *at))),
        );
        let mut seed = 0x5eed_u64;
        let zobrist = (0..ops.len())
            .map(|_| (u128::from(splitmix(&mut seed)) << 64) | u128::from(splitmix(&mut seed)))
            .collect();
        let mut classes: HashMap<&M::Input, usize> = HashMap::new();
        let class = ops
            .iter()
            .map(|op| {
                let fresh = classes.len();
                match op.returned {
                    None => *classes.entry(&op.input).or_insert(fresh),
                    Some(_) => usize::MAX,
                }
            })
            .collect();
        Search {
            model,
            ops,
            timeline,
            zobrist,
            class,
            class_seen: vec![usize::MAX; classes.len()],
            visit: 0,
        }
    }

    /// The ops that may be linearized next, known ones first (they are what must be
    /// explained; unknown ones only help), unknown ones one per class.
    fn candidates(&mut self) -> Vec<usize> {
        self.visit += 1;
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for op in self.timeline.open_calls() {
            if self.ops[op].returned.is_some() {
                known.push(op);
            } else if self.class_seen[self.class[op]] != self.visit {
                self.class_seen[self.class[op]] = self.visit;
                unknown.push(op);
            }
        }
        known.extend(unknown);
        known
    }

    fn viable(&self, state: &M::State, candidates: &[usize]) -> bool {
        candidates.iter().all(|&c| {
            let op = &self.ops[c];
            op.returned
                .as_ref()
                .is_none_or(|(_, out)| self.model.may_still_accept(state, &op.input, out))
        })
    }

    fn run(mut self, budget: usize) -> Verdict<M::State> {
        let known_total = self.ops.iter().filter(|o| o.returned.is_some()).count();
        let mut known_left = known_total;
        let mut state = self.model.init();
        let mut zob = 0u128;
        let mut stack: Vec<Frame<M::State>> = Vec::new();
        let mut memo: HashSet<u128> = HashSet::new();
        let mut explored = 0usize;
        let mut candidates = self.candidates();
        let mut tried = 0;
        let mut stuck = self.stuck(0, &stack, &candidates, &state);
        loop {
            if known_left == 0 {
                return Verdict::Linearizable { explored };
            }
            let mut descended = false;
            while tried < candidates.len() {
                let c = candidates[tried];
                tried += 1;
                let op = &self.ops[c];
                let output = op.returned.as_ref().map(|(_, out)| out);
                let Some(after) = self.model.step(&state, &op.input, output) else {
                    continue;
                };
                if output.is_none() && after == state {
                    continue;
                }
                let z = zob ^ self.zobrist[c];
                if !memo.insert(fingerprint(z, &after)) {
                    continue;
                }
                explored += 1;
                if explored >= budget {
                    return Verdict::Inconclusive { explored, stuck };
                }
                self.timeline.lift(c);
                stack.push(Frame {
                    op: c,
                    before: std::mem::replace(&mut state, after),
                    candidates: std::mem::take(&mut candidates),
                    tried,
                });
                zob = z;
                if output.is_some() {
                    known_left -= 1;
                }
                candidates = self.candidates();
                tried = 0;
                // A hopeless node still ends a linearizable prefix worth showing.
                if known_total - known_left > stuck.linearized {
                    stuck = self.stuck(known_total - known_left, &stack, &candidates, &state);
                }
                if !self.viable(&state, &candidates) {
                    candidates.clear();
                }
                descended = true;
                break;
            }
            if descended {
                continue;
            }
            let Some(frame) = stack.pop() else {
                return Verdict::NotLinearizable { explored, stuck };
            };
            self.timeline.unlift(frame.op);
            zob ^= self.zobrist[frame.op];
            if self.ops[frame.op].returned.is_some() {
                known_left += 1;
            }
            state = frame.before;
            candidates = frame.candidates;
            tried = frame.tried;
        }
    }

    fn stuck(
        &self,
        linearized: usize,
        stack: &[Frame<M::State>],
        candidates: &[usize],
        state: &M::State,
    ) -> Stuck<M::State> {
        let (pending, unknown): (Vec<usize>, Vec<usize>) = candidates
            .iter()
            .partition(|&&c| self.ops[c].returned.is_some());
        // Unknown ops that would change nothing here explain nothing here.
        let pending_unknown = unknown
            .into_iter()
            .filter(|&c| {
                let after = self.model.step(state, &self.ops[c].input, None);
                after.is_some_and(|after| after != *state)
            })
            .collect();
        Stuck {
            linearized,
            last: stack[stack.len().saturating_sub(SHOW_LAST)..]
                .iter()
                .map(|f| f.op)
                .collect(),
            pending,
            pending_unknown,
            state: state.clone(),
        }
    }
}

fn splitmix(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Two independent 64-bit hashes of (set of ops, state).
fn fingerprint<S: Hash>(set: u128, state: &S) -> u128 {
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        set.hash(&mut h);
        state.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

#[cfg(test)]
#[path = "linearizable_tests.rs"]
mod tests;
