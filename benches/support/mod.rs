//! Timing helpers the benches share: milliseconds since a start, and a median/min/max line.

use std::time::Instant;

pub fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// Prints `what` with the median, min and max of `samples` (milliseconds).
pub fn report(what: &str, mut samples: Vec<f64>) {
    samples.sort_by(f64::total_cmp);
    let median = (samples[(samples.len() - 1) / 2] + samples[samples.len() / 2]) / 2.0;
    println!(
        "{what:<34} median {median:8.2} ms   min {:8.2} ms   max {:8.2} ms   ({} runs)",
        samples[0],
        samples[samples.len() - 1],
        samples.len()
    );
}
