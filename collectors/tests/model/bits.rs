//! Packing a model state into a fixed array of words (the key a model
//! check's visited set remembers), shared by the model checks in
//! `collectors/tests/`.

/// A bit writer into `N` words.
pub struct Bits<const N: usize> {
    pub words: [u64; N],
    at: usize,
}

impl<const N: usize> Bits<N> {
    pub fn new() -> Bits<N> {
        Bits { words: [0; N], at: 0 }
    }

    /// Appends `v` in `width` bits.
    pub fn put(&mut self, v: u64, width: usize) {
        assert!(v < 1 << width && self.at + width <= 64 * N, "the state does not fit its key");
        let (w, b) = (self.at / 64, self.at % 64);
        self.words[w] |= v << b;
        if b + width > 64 {
            self.words[w + 1] |= v >> (64 - b);
        }
        self.at += width;
    }
}
