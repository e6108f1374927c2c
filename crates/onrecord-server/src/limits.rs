//! Per-token limits: a request rate (a token bucket per token, refilled
//! continuously; past it, 429 with `Retry-After`) and a cap on the live
//! tails one token holds open at once. Memory: one small entry per token
//! that has been used, never per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One token's bucket.
#[derive(Debug)]
struct Bucket {
    /// Requests it may still make now (fractional while refilling).
    left: f64,
    /// When `left` was last brought up to date.
    at: Instant,
}

/// Request rates and open tails, per token.
#[derive(Debug)]
pub struct Limits {
    /// Requests per second each token may make, sustained.
    rate: f64,
    /// Requests a token may make at once after a quiet spell.
    burst: f64,
    /// Live tails one token may hold open.
    max_tails: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
    tails: Arc<Mutex<HashMap<String, usize>>>,
}

/// A live tail counted against its token; uncounted when dropped.
#[derive(Debug)]
pub struct TailSlot {
    token_id: String,
    tails: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for TailSlot {
    fn drop(&mut self) {
        let mut tails = self.tails.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = tails.get_mut(&self.token_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                tails.remove(&self.token_id);
            }
        }
    }
}

impl Limits {
    /// `rate` requests per second per token (bursts of twice that, at
    /// least 1), and at most `max_tails` open tails per token.
    pub fn new(rate: u32, max_tails: usize) -> Self {
        let rate = f64::from(rate.max(1));
        Self {
            rate,
            burst: (rate * 2.0).max(1.0),
            max_tails,
            buckets: Mutex::new(HashMap::new()),
            tails: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Takes one request from `token_id`'s bucket at `now`, or says how long
    /// until one is there.
    pub fn admit(&self, token_id: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(token_id.to_owned()).or_insert(Bucket {
            left: self.burst,
            at: now,
        });
        let refill = now.saturating_duration_since(bucket.at).as_secs_f64() * self.rate;
        bucket.left = (bucket.left + refill).min(self.burst);
        bucket.at = now;
        if bucket.left >= 1.0 {
            bucket.left -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.left) / self.rate))
        }
    }

    /// Counts a new live tail for `token_id`, unless it already holds the most it may.
    pub fn open_tail(&self, token_id: &str) -> Option<TailSlot> {
        let mut tails = self.tails.lock().unwrap_or_else(|p| p.into_inner());
        let open = tails.entry(token_id.to_owned()).or_insert(0);
        if *open >= self.max_tails {
            return None;
        }
        *open += 1;
        Some(TailSlot {
            token_id: token_id.to_owned(),
            tails: Arc::clone(&self.tails),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_gets_its_burst_then_its_rate_and_others_are_not_held_back() {
        let limits = Limits::new(10, 2);
        let start = Instant::now();
        for _ in 0..20 {
            assert!(limits.admit("a", start).is_ok());
        }
        let wait = limits.admit("a", start).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        assert!(
            limits.admit("b", start).is_ok(),
            "another token has its own bucket"
        );
        assert!(
            limits
                .admit("a", start + Duration::from_millis(100))
                .is_ok()
        );
    }

    #[test]
    fn tails_are_capped_per_token_and_freed_when_they_end() {
        let limits = Limits::new(10, 2);
        let one = limits.open_tail("a").unwrap();
        let _two = limits.open_tail("a").unwrap();
        assert!(limits.open_tail("a").is_none());
        assert!(limits.open_tail("b").is_some());
        drop(one);
        assert!(limits.open_tail("a").is_some());
    }
}
