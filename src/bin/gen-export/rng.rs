//! Random numbers for the generator: splitmix64 seeding a xoshiro256** stream per row.
//!
//! No dependency, so the stream is stable across platforms and Rust versions: the exported file
//! must not change when a crate is upgraded. Every draw helper consumes a fixed number of
//! `next_u64` calls, which is what keeps a file byte-identical for a given seed.

pub(crate) struct Rng {
    s: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// The stream of one row: rows are independent, so a prefix of a file is a smaller file.
    pub(crate) fn for_row(seed: u64, row: u64) -> Rng {
        let mut state = seed ^ row.wrapping_mul(0xd1b5_4a32_d192_ed03);
        Rng {
            s: [
                splitmix64(&mut state),
                splitmix64(&mut state),
                splitmix64(&mut state),
                splitmix64(&mut state),
            ],
        }
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Normal by Box–Muller, clamped to [lo, hi].
    pub(crate) fn normal(&mut self, mean: f64, sd: f64, lo: f64, hi: f64) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        (mean + sd * z).clamp(lo, hi)
    }

    /// Log-normal around `median` (multiplicative spread `gsd`), clamped to [lo, hi].
    pub(crate) fn lognormal(&mut self, median: f64, gsd: f64, lo: f64, hi: f64) -> f64 {
        let z = self.normal(0.0, 1.0, -4.0, 4.0);
        (median * gsd.powf(z)).clamp(lo, hi)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Index drawn with the given weights.
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(total as usize) as u32;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}
