//! Resettlement policies as parsed, shared by every backend of this process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use yongxin_domain::resettlement::policy::Policy;

use crate::{StoreError, StoreResult};

/// The policy a stored text parses to, from memory when it was parsed before. Every registration
/// and assessment computes under the current policy inside the write's transaction — on SQLite
/// inside the one writer —, and parsing its TOML costs about a quarter of a millisecond; the text
/// is the key, so the same text is the same policy whichever database it came from. Few policies
/// exist; past 64 the memory starts afresh.
pub fn parsed_policy(source: &str) -> StoreResult<Arc<Policy>> {
    static PARSED: OnceLock<Mutex<HashMap<String, Arc<Policy>>>> = OnceLock::new();
    let cache = PARSED.get_or_init(Default::default);
    if let Some(p) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(source) {
        return Ok(p.clone());
    }
    let policy = Arc::new(
        Policy::from_toml(source)
            .map_err(|e| StoreError::internal(format!("stored policy refused: {e}")))?,
    );
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= 64 {
        cache.clear();
    }
    cache.insert(source.to_owned(), policy.clone());
    Ok(policy)
}
