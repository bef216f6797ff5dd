//! Seeded random streams. One user seed drives several independent streams (split,
//! initialization, shuffling), so changing how one is used does not shift the others. The
//! generator is Xoshiro256++, whose output rand guarantees to be the same on every platform.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

pub type Rng = Xoshiro256PlusPlus;

/// What a random stream is used for.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Split = 1,
    Init = 2,
    Shuffle = 3,
    Validation = 4,
    /// The pixel noise of the denoising-autoencoder picture (`gen dae`, `denoise`).
    Noise = 5,
    /// The teacher network, inputs and noise of `gen teacher`.
    Teacher = 6,
    /// The rows a subsampled ANMIN A-step is assembled from.
    ASample = 7,
    /// The folds of bagging (`--bag`).
    Folds = 8,
    /// The training rows each unit's kink is placed at (`--init data`).
    Kinks = 9,
    /// The rows a bag member trains on when its folds hold more than it takes.
    MemberRows = 10,
}

/// The generator for `stream` under the user's `seed`.
pub fn seeded(seed: u64, stream: Stream) -> Rng {
    // Distinct streams get distinct 64-bit seeds; seed_from_u64 then mixes them.
    Rng::seed_from_u64(seed ^ (stream as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}
