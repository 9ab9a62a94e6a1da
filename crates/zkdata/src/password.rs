//! The password ZooKeeper gives a session: `ZooKeeperServer.generatePasswd` seeds
//! `java.util.Random` with the session id XOR a fixed secret and takes 16 bytes.
//! It is never stored; a server recomputes it to check a reconnect. So a session
//! carried over keeps working only with the same bytes, hence an exact copy of
//! Java's generator (a 48-bit linear congruential generator, `Random`'s javadoc).

/// `ZooKeeperServer.superSecret`.
const SUPER_SECRET: i64 = 0xB341_5C00;
const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const ADDEND: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;

/// `java.util.Random`, the parts ZooKeeper uses.
#[derive(Debug, Clone)]
pub struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    /// `new Random(seed)`.
    pub fn new(seed: i64) -> JavaRandom {
        JavaRandom {
            seed: (seed as u64 ^ MULTIPLIER) & MASK,
        }
    }

    /// `next(bits)`: the top `bits` of the advanced 48-bit state.
    fn next(&mut self, bits: u32) -> i32 {
        self.seed = self.seed.wrapping_mul(MULTIPLIER).wrapping_add(ADDEND) & MASK;
        (self.seed >> (48 - bits)) as i32
    }

    /// `nextInt()`.
    pub fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// `nextBytes`: each int gives up to four bytes, lowest first.
    pub fn next_bytes(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(4) {
            let mut rnd = self.next_int();
            for b in chunk {
                *b = rnd as u8;
                rnd >>= 8;
            }
        }
    }
}

/// The 16-byte password ZooKeeper gives session `id`.
pub fn session_password(id: i64) -> [u8; 16] {
    let mut p = [0u8; 16];
    JavaRandom::new(id ^ SUPER_SECRET).next_bytes(&mut p);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `new Random(42)`'s first ints, as the JDK gives them (a well-known
    /// sequence: -1170105035, 234785527, -1360544799, 205897768).
    #[test]
    fn the_sequence_is_javas() {
        let mut r = JavaRandom::new(42);
        let ints: Vec<i32> = (0..4).map(|_| r.next_int()).collect();
        assert_eq!(ints, vec![-1170105035, 234785527, -1360544799, 205897768]);
        let mut r = JavaRandom::new(0);
        assert_eq!(r.next_int(), -1155484576);
    }

    /// Computed by the JDK: `new Random(0x100000a2b3c0001L ^ 0XB3415C00L).nextBytes`
    /// of 16 bytes, as `ZooKeeperServer.generatePasswd` does.
    #[test]
    fn a_session_password_is_zookeepers() {
        let hex: String = session_password(0x0100_000a_2b3c_0001)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, "197d05d2bb0f80be49d0ef3f307644f1");
    }

    #[test]
    fn bytes_take_each_int_lowest_byte_first() {
        let mut ints = JavaRandom::new(7);
        let first = ints.next_int().to_le_bytes();
        let second = ints.next_int().to_le_bytes();
        let mut bytes = [0u8; 6];
        JavaRandom::new(7).next_bytes(&mut bytes);
        assert_eq!(bytes[..4], first);
        assert_eq!(bytes[4..], second[..2]);
    }
}
