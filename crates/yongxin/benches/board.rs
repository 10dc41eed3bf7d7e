//! Benchmark: the live board with 10,000 concurrent server-sent-event subscribers on one node —
//! the `yongxin` binary serving a SQLite file in its own process, this process holding the
//! subscribers (raw TCP, one task each) and making 20 sales, one every quarter second, through
//! the claims API. Prints how long each subscriber took to receive each sale after it was
//! acknowledged (p50, p99, max), whether every subscriber received every sale exactly once and in
//! order, and the server's memory (resident and peak, from /proc).
//!
//! `cargo bench -p yongxin --bench board` (YONGXIN_BENCH_SUBSCRIBERS, default 10,000; the open-file
//! limit must allow them — `ulimit -n` 20,000 here — as a service's unit file would set).
#![expect(clippy::unwrap_used, reason = "benchmark")]

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use yongxin_domain::demo::DemoSize;
use yongxin_store::Store;
use yongxin_store_sqlite::SqliteStore;

#[path = "support/http.rs"]
mod http;
#[path = "support/project.rs"]
mod project;

const SALES: usize = 20;

fn memory_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)
                .map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let subscribers: usize = std::env::var("YONGXIN_BENCH_SUBSCRIBERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let bench = project::open_selection(
        dir.path(),
        9,
        DemoSize {
            grids_per_village: 2,
            households_per_grid: 60,
        },
    )
    .await;
    let (url, pid, sid, token) = (
        bench.url.clone(),
        bench.project,
        bench.selection,
        bench.token.clone(),
    );
    let units = bench.store.unit_states(pid).await.unwrap();
    let mut households = Vec::new();
    for h in bench.store.all_project_households(pid).await.unwrap() {
        if h.lottery_order.is_some()
            && !units
                .iter()
                .any(|u| u.owner_household_id == Some(h.household.id))
        {
            households.push(h.household.id);
        }
    }
    println!(
        "project: {} households ({} on the list), {} apartments",
        bench.counts.0, bench.counts.1, bench.counts.2
    );
    drop(bench);
    let mut server = Command::new(env!("CARGO_BIN_EXE_yongxin"))
        .args(["--database-url", &url, "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address: std::net::SocketAddr = line
        .trim()
        .trim_start_matches("yongxin: serving http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let server_pid = server.id();
    let rss_idle = memory_kb(server_pid, "VmRSS:");

    // Subscribers connect in batches, as screens and phones come in.
    let started = Instant::now();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut tasks = Vec::new();
    for i in 0..subscribers {
        let ready_tx = ready_tx.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            let request = format!("GET /projects/{pid}/board/events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n");
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut buffer = Vec::with_capacity(1024);
            let mut received: Vec<(i64, Instant)> = Vec::new();
            let mut headers_seen = false;
            loop {
                let n = stream.read_buf(&mut buffer).await.unwrap();
                if n == 0 {
                    break;
                }
                if !headers_seen {
                    if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                        headers_seen = true;
                        buffer.drain(..end + 4);
                        ready_tx.send(()).unwrap();
                    } else {
                        continue;
                    }
                }
                let now = Instant::now();
                let text = String::from_utf8_lossy(&buffer).into_owned();
                for l in text.lines() {
                    if let Some(id) = l.strip_prefix("id: ").or_else(|| l.strip_prefix("id:")) {
                        if let Ok(id) = id.trim().parse::<i64>() {
                            received.push((id, now));
                        }
                    }
                }
                buffer.clear();
                if received.len() >= SALES {
                    break;
                }
            }
            let _ = i;
            received
        }));
        if i % 500 == 499 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    for _ in 0..subscribers {
        ready_rx.recv().await.unwrap();
    }
    let connected_in = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected = memory_kb(server_pid, "VmRSS:");

    // Sales, one every quarter second: (board sequence number, when acknowledged).
    let mut conn = http::Connection::open(address).await;
    let units: Vec<serde_json::Value> = {
        let sqlite = SqliteStore::open(&url, false).await.unwrap();
        let store: Arc<dyn Store> = Arc::new(sqlite);
        store
            .unit_states(pid)
            .await
            .unwrap()
            .iter()
            .filter(|u| u.owner_household_id.is_none() && u.layout == "A")
            .map(|u| serde_json::json!(u.id))
            .collect()
    };
    let mut sold_at = std::collections::HashMap::new();
    for i in 0..SALES {
        let body =
            serde_json::json!({"household_id": households[i], "unit_ids": [units[i]]}).to_string();
        let (status, reply) = conn
            .post(&format!("/api/v1/selections/{sid}/claims"), &token, &body)
            .await
            .unwrap();
        let acknowledged = Instant::now();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
        let seq = serde_json::from_slice::<serde_json::Value>(&reply).unwrap()["board_seq"]
            .as_i64()
            .unwrap();
        sold_at.insert(seq, acknowledged);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let first_seq = *sold_at.keys().min().unwrap();
    let mut delays = Vec::new();
    let mut complete = 0;
    for t in tasks {
        let received = tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .unwrap()
            .unwrap();
        let ids: Vec<i64> = received.iter().map(|(id, _)| *id).collect();
        if ids == (first_seq..first_seq + SALES as i64).collect::<Vec<_>>() {
            complete += 1;
        }
        for (id, at) in received {
            if let Some(sent) = sold_at.get(&id) {
                delays.push(at.saturating_duration_since(*sent));
            }
        }
    }
    let rss_after = memory_kb(server_pid, "VmRSS:");
    let peak = memory_kb(server_pid, "VmHWM:");
    server.kill().unwrap();
    server.wait().unwrap();
    delays.sort();
    let pct = |p: f64| {
        delays
            .get(((delays.len() as f64 * p) as usize).min(delays.len() - 1))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!("board: {subscribers} subscribers connected in {connected_in:.1} s; {SALES} sales, one every 250 ms");
    println!(
        "delivery after the sale was acknowledged: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms over {} deliveries; {complete} of {subscribers} subscribers received every sale once and in order",
        pct(0.5),
        pct(0.99),
        pct(1.0),
        delays.len()
    );
    println!(
        "server memory: {:.0} MB idle, {:.0} MB with the subscribers, {:.0} MB after the sales, peak {:.0} MB",
        rss_idle as f64 / 1024.0,
        rss_connected as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    assert_eq!(complete, subscribers);
}
