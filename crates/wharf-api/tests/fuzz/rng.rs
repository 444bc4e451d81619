//! A small deterministic generator (SplitMix64) and the random choices the fuzz cases are made of,
//! so a seed reproduces a run exactly without another dependency.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// `len` characters from `alphabet`.
    pub fn string(&mut self, alphabet: &str, len: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..len).map(|_| *self.pick(&chars)).collect()
    }

    /// A short lowercase-and-digits word.
    pub fn word(&mut self) -> String {
        let len = 1 + self.below(8);
        self.string("abcdefghijklmnopqrstuvwxyz0123456789", len)
    }

    /// Any string a client might send: short junk, unicode, control characters, very long runs.
    pub fn junk(&mut self) -> String {
        match self.below(8) {
            0 => String::new(),
            1 => {
                let n = 1 + self.below(20);
                self.string("abcXYZ019._-/:@%+ ", n)
            }
            2 => "é\u{0}\u{7f}\u{202e}ü😀"
                .chars()
                .take(1 + self.below(6))
                .collect(),
            3 => "a".repeat(200 + self.below(5000)),
            4 => "../".repeat(1 + self.below(6)),
            5 => format!("%{:02x}%{:02X}", self.next() as u8, self.next() as u8),
            6 => (self.next() as i64).to_string(),
            _ => self.word(),
        }
    }
}
