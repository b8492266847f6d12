//! Reproducible hostile `Cookie` headers, without a dependency.

/// xorshift64*: reproducible junk without a dependency.
pub(crate) struct Rng(std::cell::Cell<u64>);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(std::cell::Cell::new(seed.max(1)))
    }

    pub(crate) fn next(&self) -> u64 {
        let mut x = self.0.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0.set(x.max(1));
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn bytes_from(&self, alphabet: &[u8], len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }
}

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// One request's worth of hostile `Cookie` fields (1 to 3 of them).
pub(crate) fn adversarial_cookie_headers(rng: &Rng) -> Vec<Vec<u8>> {
    let mut fields = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let mut field = Vec::new();
        for pair in 0..1 + rng.below(if rng.below(10) == 0 { 200 } else { 6 }) {
            if pair > 0 {
                field.extend_from_slice(if rng.below(4) == 0 { b";" } else { b"; " });
            }
            let name: Vec<u8> = match rng.below(6) {
                0 | 1 => b"__Host-session".to_vec(),
                2 => format!("__Host-session.{}", rng.below(20)).into_bytes(),
                3 => b"__host-SESSION".to_vec(),
                4 => rng.bytes_from(b"abc_-.%$!", 1 + rng.below(12)),
                _ => Vec::new(),
            };
            field.extend_from_slice(&name);
            if rng.below(12) != 0 {
                field.push(b'=');
            }
            let value: Vec<u8> = match rng.below(9) {
                // A plausible header: format 1, key 1, then noise.
                0 => [b"AQAAAAE".as_slice(), &rng.bytes_from(B64URL, 4090)].concat(),
                1 => [
                    b"AQAAAAE".as_slice(),
                    &rng.bytes_from(B64URL, 20 + rng.below(200)),
                ]
                .concat(),
                2 => rng.bytes_from(B64URL, 4096 + rng.below(2048)),
                3 => rng.bytes_from(b"%0123456789abcdefABCDEF+/=", 1 + rng.below(300)),
                4 => (0..1 + rng.below(64))
                    .map(|_| 0x80 + rng.below(128) as u8)
                    .collect(),
                5 => [
                    b"\"".as_slice(),
                    &rng.bytes_from(B64URL, rng.below(100)),
                    b"\"",
                ]
                .concat(),
                6 => rng.bytes_from(b" =;,\t\"\\", 1 + rng.below(30)),
                7 => Vec::new(),
                _ => rng.bytes_from(B64URL, rng.below(64)),
            };
            field.extend_from_slice(&value);
        }
        // A field value cannot start or end with whitespace on the wire.
        while field.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
            field.pop();
        }
        if field.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            field.insert(0, b'x');
        }
        fields.push(field);
    }
    // Servers refuse header sections past ~8 KiB (431) before any
    // middleware runs; stay under that to reach the session layer.
    let mut budget = 7 * 1024;
    for field in &mut fields {
        field.truncate(budget.max(1));
        while field.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
            field.pop();
        }
        if field.is_empty() {
            field.push(b'x');
        }
        budget = budget.saturating_sub(field.len());
    }
    fields
}
