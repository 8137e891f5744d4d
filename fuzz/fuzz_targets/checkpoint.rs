//! The checkpoint verifier: any bytes as a checkpoint (event, chain value, time, key, signature)
//! are checked without a panic, and only the one signed message verifies.
#![no_main]

use app::store::checkpoints::{Checkpoint, Kind, Signer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let take = |from: usize, n: usize| -> Vec<u8> {
        (0..n).map(|i| data.get(from + i).copied().unwrap_or(0)).collect()
    };
    let signer = Signer::from_seed([9; 32]);
    let event_id = i64::from_le_bytes(take(0, 8).try_into().unwrap());
    let chain: [u8; 32] = take(8, 32).try_into().unwrap();
    let kind = [Kind::Periodic, Kind::Purge, Kind::Manual][usize::from(data.first().copied().unwrap_or(0)) % 3];
    let good = Checkpoint::sign(&signer, event_id, chain, kind);
    assert!(good.signature_ok());
    let forged = Checkpoint {
        signature: data.get(40..).unwrap_or_default().to_vec(),
        ..good.clone()
    };
    assert_eq!(forged.signature_ok(), forged.signature == good.signature);
    let other_key = Checkpoint {
        public_key: take(40, 32).try_into().unwrap(),
        ..good.clone()
    };
    let _ = other_key.signature_ok();
});
