//! Fresh random values for each challenge. All come from `rand::rng()`: a ChaCha12 CSPRNG per
//! thread, seeded and periodically reseeded from the operating system, so a challenge costs no
//! system call per character.

use rand::Rng;
use rand::distr::{Alphanumeric, Distribution, Uniform};

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

/// Six decimal digits, uniform over 000000–999999 (`random_range` rejects rather than
/// reducing modulo, so no code is likelier than another), leading zeros kept.
pub fn code() -> Code {
    let n: u32 = rand::rng().random_range(0..1_000_000);
    Code::new(format!("{n:06}"))
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
    fn values_do_not_repeat() {
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| challenge_id()).collect();
        assert_eq!(ids.len(), 1000);
    }
}
