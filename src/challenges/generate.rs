//! Fresh random values for each challenge. All come from `rand::rng()`: a ChaCha12 CSPRNG per
//! thread, seeded and periodically reseeded from the operating system, so a challenge costs no
//! system call per character.

use rand::distr::{Alphanumeric, Distribution, Uniform};
use rand::{Rng, RngCore};

use super::model::{ChallengeId, Code, Secret};

/// Lower-case letters and digits: URL-safe and easy to read back.
const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// 20 symbols of 36 give about 103 bits.
const ID_LEN: usize = 20;
/// Three groups of nine alphanumerics give about 160 bits.
const SECRET_GROUPS: usize = 3;
const SECRET_GROUP_LEN: usize = 9;

pub fn challenge_id() -> ChallengeId {
    let mut rng = rand::rng();
    let symbol = Uniform::new(0, ID_ALPHABET.len()).expect("non-empty alphabet");
    let id = (0..ID_LEN).map(|_| ID_ALPHABET[symbol.sample(&mut rng)] as char).collect();
    ChallengeId::new(id)
}

/// `ABC123def-GHI456jkl-MNO789pqr`-shaped.
pub fn secret() -> Secret {
    let mut rng = rand::rng();
    let groups: Vec<String> = (0..SECRET_GROUPS)
        .map(|_| (&mut rng).sample_iter(Alphanumeric).take(SECRET_GROUP_LEN).map(char::from).collect())
        .collect();
    Secret::new(groups.join("-"))
}

/// How many codes there are: six decimal digits.
const CODES: u32 = 1_000_000;
/// The draws a code is taken from: the largest whole number of `CODES` blocks in a `u32`, so
/// that each code is the remainder of exactly `ACCEPTED_DRAWS / CODES` of them.
const ACCEPTED_DRAWS: u32 = ((1u64 << 32) - (1u64 << 32) % CODES as u64) as u32;

/// Six decimal digits, exactly uniform over 000000–999999, leading zeros kept. Draws past the
/// last whole block are drawn again (about 1 in 4,440), since keeping them would favour the
/// codes below 967,296.
pub fn code() -> Code {
    let mut rng = rand::rng();
    loop {
        if let Some(code) = code_from_draw(rng.next_u32()) {
            return code;
        }
    }
}

/// The code for a uniform `u32` draw, or `None` for a draw that must be rejected.
fn code_from_draw(draw: u32) -> Option<Code> {
    (draw < ACCEPTED_DRAWS).then(|| Code::new(format!("{:06}", draw % CODES)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let id = challenge_id();
        assert_eq!(id.as_str().len(), ID_LEN);
        assert!(id.as_str().bytes().all(|b| ID_ALPHABET.contains(&b)));

        let secret = secret();
        let groups: Vec<&str> = secret.expose().split('-').collect();
        assert_eq!(groups.len(), 3);
        assert!(groups.iter().all(|g| g.len() == 9 && g.chars().all(|c| c.is_ascii_alphanumeric())));

        let code = code();
        assert_eq!(code.expose().len(), 6);
        assert!(code.expose().chars().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn codes_spread_over_every_leading_digit() {
        // 20,000 draws put about 2,000 in each leading digit; a biased or constant
        // generator misses this by far.
        let mut counts = [0u32; 10];
        for _ in 0..20_000 {
            let first = code().expose().as_bytes()[0] - b'0';
            counts[first as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (1_600..2_400).contains(&c)), "{counts:?}");
    }

    #[test]
    fn code_bias_none_the_accepted_draws_are_whole_blocks_of_codes() {
        assert_eq!(u64::from(ACCEPTED_DRAWS) % u64::from(CODES), 0, "each code has the same number of draws");
        assert!((1 << 32) - u64::from(ACCEPTED_DRAWS) < u64::from(CODES), "no further whole block fits in a u32");
    }

    #[test]
    fn code_bias_none_a_draw_maps_to_its_digits_or_is_rejected() {
        let digits = |draw| code_from_draw(draw).map(|c| c.expose().to_owned());
        assert_eq!(digits(0).as_deref(), Some("000000"));
        assert_eq!(digits(42).as_deref(), Some("000042"));
        assert_eq!(digits(999_999).as_deref(), Some("999999"));
        assert_eq!(digits(1_000_000).as_deref(), Some("000000"));
        assert_eq!(digits(ACCEPTED_DRAWS - 1).as_deref(), Some("999999"));
        assert_eq!(digits(ACCEPTED_DRAWS), None);
        assert_eq!(digits(u32::MAX), None);
    }

    #[test]
    fn values_do_not_repeat() {
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| challenge_id()).collect();
        assert_eq!(ids.len(), 1000);
    }
}
