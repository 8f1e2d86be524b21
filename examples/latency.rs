//! Sequential GET latency against a running server: median, p99 and max.
//!
//! BENCH_TOKEN=... cargo run --release --example latency -- URL [REQUESTS]
//!
//! `BENCH_TOKEN`, when set, is sent as the bearer token; `BENCH_COOKIE` (for pages, e.g.
//! `cla_session=...`) as the cookie.

use std::time::{Duration, Instant};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: latency URL [REQUESTS]")?;
    let requests: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(200);
    let mut headers = reqwest::header::HeaderMap::new();
    if let Ok(token) = std::env::var("BENCH_TOKEN") {
        headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse()?);
    }
    if let Ok(cookie) = std::env::var("BENCH_COOKIE") {
        headers.insert(reqwest::header::COOKIE, cookie.parse()?);
    }
    // A redirect (to sign in) is a failure, never a measurement of the sign-in page.
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    // Warm up caches and the connection before measuring.
    for _ in 0..5 {
        client.get(&url).send().await?.bytes().await?;
    }
    let mut times = Vec::with_capacity(requests);
    let mut bytes = 0;
    for _ in 0..requests {
        let start = Instant::now();
        let response = client.get(&url).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        times.push(start.elapsed());
        if !status.is_success() {
            return Err(format!("{url} answered {status}").into());
        }
        bytes = body.len();
    }
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{url}\n  requests {requests}, body {bytes} bytes: median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(times[times.len() - 1])
    );
    Ok(())
}
