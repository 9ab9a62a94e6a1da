//! ZooKeeper's connection throttle (`BlueThrottle`) as a pure state machine: a token
//! bucket that refills with time, and, when `freeze_time` is set, a probability of
//! dropping a connection at random that rises while the bucket stays empty and
//! falls while it stays nearly full (random early detection). The caller passes the
//! time and the random roll, so the rules run under a fake clock in tests.

use crate::config::ConnectionThrottle;

pub struct Bucket {
    rules: ConnectionThrottle,
    tokens: u64,
    last_fill_ms: u64,
    last_freeze_ms: u64,
    drop: f64,
}

impl Bucket {
    /// A full bucket at `now_ms`.
    pub fn new(rules: ConnectionThrottle, now_ms: u64) -> Bucket {
        Bucket {
            tokens: u64::from(rules.tokens),
            rules,
            last_fill_ms: now_ms,
            last_freeze_ms: now_ms,
            drop: 0.0,
        }
    }

    /// The probability of a random drop, as `mntr` shows it.
    pub fn drop_probability(&self) -> f64 {
        self.drop
    }

    /// Whether a connection costing `need` tokens is let in at `now_ms`; `roll` is a
    /// uniform random number in [0, 1).
    pub fn admit(&mut self, need: u32, now_ms: u64, roll: f64) -> bool {
        let max = u64::from(self.rules.tokens);
        if max == 0 {
            return true;
        }
        let fill_time = self.rules.fill_time_ms.max(1);
        let elapsed = now_ms.saturating_sub(self.last_fill_ms);
        if elapsed > fill_time {
            let refill = elapsed / fill_time * u64::from(self.rules.fill_count);
            self.tokens = (self.tokens + refill).min(max);
            self.last_fill_ms = now_ms;
        }
        if self.rules.freeze_time_ms >= 0 && !self.survives_drop(now_ms, roll) {
            return false;
        }
        let need = u64::from(need);
        if self.tokens < need {
            return false;
        }
        self.tokens -= need;
        true
    }

    /// Moves the drop probability at most once per freeze time: up while the bucket
    /// is empty, down while its use is at or under the decrease ratio.
    fn survives_drop(&mut self, now_ms: u64, roll: f64) -> bool {
        let max = u64::from(self.rules.tokens);
        let in_use = max - self.tokens;
        let threshold = (max as f64 * self.rules.decrease_ratio) as u64;
        let thawed = now_ms.saturating_sub(self.last_freeze_ms) >= self.rules.freeze_time_ms as u64;
        if in_use == max && thawed {
            self.drop = (self.drop + self.rules.drop_increase).min(1.0);
            self.last_freeze_ms = now_ms;
        } else if in_use <= threshold && thawed {
            self.drop = (self.drop - self.rules.drop_decrease).max(0.0);
            self.last_freeze_ms = now_ms;
        }
        roll >= self.drop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(tokens: u32) -> ConnectionThrottle {
        ConnectionThrottle {
            tokens,
            fill_time_ms: 10,
            fill_count: 1,
            ..Default::default()
        }
    }

    #[test]
    fn zero_tokens_is_no_throttle() {
        let mut b = Bucket::new(rules(0), 0);
        assert!((0..1000).all(|_| b.admit(1, 0, 0.0)));
    }

    #[test]
    fn the_bucket_empties_then_refills_with_time() {
        let mut b = Bucket::new(rules(3), 1000);
        assert!(b.admit(1, 1000, 0.5) && b.admit(1, 1000, 0.5) && b.admit(1, 1000, 0.5));
        assert!(!b.admit(1, 1000, 0.5), "the bucket of 3 is empty");
        assert!(
            !b.admit(1, 1010, 0.5),
            "one fill time has not passed beyond it"
        );
        assert!(b.admit(1, 1011, 0.5), "one token back after a fill time");
        assert!(!b.admit(1, 1011, 0.5));
        assert!(b.admit(3, 2000, 0.5), "refills stop at the bucket's size");
        assert!(!b.admit(1, 2000, 0.5));
    }

    #[test]
    fn a_weighted_connection_needs_its_tokens() {
        let mut b = Bucket::new(rules(4), 0);
        assert!(b.admit(3, 0, 0.5));
        assert!(!b.admit(3, 0, 0.5), "one token left, three needed");
        assert!(b.admit(1, 0, 0.5));
    }

    #[test]
    fn the_drop_probability_rises_while_empty_and_falls_when_idle() {
        let mut b = Bucket::new(
            ConnectionThrottle {
                freeze_time_ms: 100,
                drop_increase: 0.25,
                drop_decrease: 0.25,
                fill_time_ms: 1000,
                ..rules(1)
            },
            0,
        );
        assert!(b.admit(1, 0, 0.99));
        // Empty and thawed at 100: the probability rises, and a roll under it drops.
        assert!(!b.admit(1, 100, 0.1));
        assert_eq!(b.drop_probability(), 0.25);
        assert!(
            !b.admit(1, 150, 0.9),
            "frozen: no change, and no token either"
        );
        assert_eq!(b.drop_probability(), 0.25);
        // A full bucket long after: the probability falls back.
        assert!(b.admit(1, 10_000, 0.9));
        assert_eq!(b.drop_probability(), 0.0);
    }
}
