//! The live board (大屏) feed: one poller per project on this node reads the board's event log
//! from the database and fans each event out to every subscriber through a broadcast channel, so
//! 10,000 screens cost one query every quarter second, and a change made on another app node
//! arrives the same way as one made here. Each server-sent-events stream sends every event once,
//! in order: it starts from the client's last event id (a reconnecting browser sends
//! `Last-Event-ID`), reads what it missed from the log, and fills any gap it sees (a slow
//! subscriber that fell behind the channel) from the log again.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use yongxin_store::ProjectId;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::{broadcast, Notify};
use yongxin_store::{BoardEvent, SelectionStore};

/// How often a project's poller reads the log when nothing nudges it.
pub const POLL_EVERY: Duration = Duration::from_millis(250);

/// Events held for subscribers that read slowly; one that falls further behind reads the log.
const CHANNEL_CAPACITY: usize = 1024;

/// Events read from the log at a time.
const BATCH: i64 = 500;

struct Feed {
    tx: broadcast::Sender<Arc<BoardEvent>>,
    nudge: Arc<Notify>,
}

/// This node's board feeds, one per project that has subscribers.
#[derive(Default)]
pub struct BoardHub {
    feeds: Mutex<HashMap<ProjectId, Feed>>,
}

impl BoardHub {
    /// A receiver of the project's events from now on, starting the project's poller if needed.
    pub fn subscribe(
        self: &Arc<Self>,
        store: Arc<dyn SelectionStore>,
        project_id: ProjectId,
    ) -> broadcast::Receiver<Arc<BoardEvent>> {
        let mut feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(feed) = feeds.get(&project_id) {
            return feed.tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(CHANNEL_CAPACITY);
        let nudge = Arc::new(Notify::new());
        feeds.insert(
            project_id,
            Feed {
                tx: tx.clone(),
                nudge: nudge.clone(),
            },
        );
        tokio::spawn(poll(self.clone(), store, project_id, tx, nudge));
        rx
    }

    /// Tells the project's poller that this node just wrote an event.
    pub fn nudge(&self, project_id: ProjectId) {
        let feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(feed) = feeds.get(&project_id) {
            feed.nudge.notify_one();
        }
    }

    /// Subscribers on this node.
    pub fn subscribers(&self) -> usize {
        let feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        feeds.values().map(|f| f.tx.receiver_count()).sum()
    }
}

/// Reads the log after the last event seen and broadcasts; stops a minute after the last
/// subscriber left.
async fn poll(
    hub: Arc<BoardHub>,
    store: Arc<dyn SelectionStore>,
    project_id: ProjectId,
    tx: broadcast::Sender<Arc<BoardEvent>>,
    nudge: Arc<Notify>,
) {
    let mut last = match store.board_seq(project_id).await {
        Ok(seq) => seq,
        Err(e) => {
            tracing::warn!(error = %e, project_id = project_id.get(), "board feed could not start");
            0
        }
    };
    let mut idle = 0u32;
    loop {
        tokio::select! {
            () = tokio::time::sleep(POLL_EVERY) => {}
            () = nudge.notified() => {}
        }
        if tx.receiver_count() == 0 {
            idle += 1;
            if idle > 240 {
                let mut feeds = hub.feeds.lock().unwrap_or_else(|e| e.into_inner());
                if tx.receiver_count() == 0 {
                    feeds.remove(&project_id);
                    return;
                }
            }
            continue;
        }
        idle = 0;
        loop {
            match store.board_events(project_id, last, BATCH).await {
                Ok(events) => {
                    let full = events.len() as i64 == BATCH;
                    for e in events {
                        last = e.seq;
                        let _ = tx.send(Arc::new(e));
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, project_id = project_id.get(), "board feed read failed");
                    break;
                }
            }
        }
    }
}

fn to_sse(e: &BoardEvent) -> Event {
    Event::default()
        .id(e.seq.to_string())
        .event(e.kind.clone())
        .data(e.payload.clone())
}

struct StreamState {
    store: Arc<dyn SelectionStore>,
    project_id: ProjectId,
    rx: broadcast::Receiver<Arc<BoardEvent>>,
    last: i64,
    pending: std::collections::VecDeque<Arc<BoardEvent>>,
    started: bool,
    /// The last read of the log filled a whole batch: there may be more to read.
    more: bool,
}

impl StreamState {
    /// Reads from the log what follows the last event sent (called only with nothing pending).
    async fn catch_up(&mut self) {
        match self
            .store
            .board_events(self.project_id, self.last, BATCH)
            .await
        {
            Ok(events) => {
                self.more = events.len() as i64 == BATCH;
                self.pending.extend(events.into_iter().map(Arc::new));
            }
            Err(e) => tracing::warn!(error = %e, "board stream read failed"),
        }
    }
}

/// The SSE stream of a project's board from event `after` on: every later event exactly once, in
/// order.
pub fn stream(
    hub: &Arc<BoardHub>,
    store: Arc<dyn SelectionStore>,
    project_id: ProjectId,
    after: i64,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe before reading the log, so nothing falls between the two.
    let rx = hub.subscribe(store.clone(), project_id);
    let state = StreamState {
        store,
        project_id,
        rx,
        last: after,
        pending: Default::default(),
        started: false,
        more: false,
    };
    let events = stream::unfold(state, |mut s| async move {
        loop {
            // At the start, and while the log had more than one batch to give.
            if !s.started || (s.more && s.pending.is_empty()) {
                s.started = true;
                s.catch_up().await;
            }
            if let Some(e) = s.pending.pop_front() {
                if e.seq <= s.last {
                    continue;
                }
                if e.seq > s.last + 1 {
                    // A gap: what is missing comes from the log first.
                    s.pending.clear();
                    s.catch_up().await;
                    if s.pending.front().is_none_or(|f| f.seq != s.last + 1) {
                        // The log has nothing newer yet; wait for the live event again.
                        s.pending.push_back(e);
                        tokio::time::sleep(POLL_EVERY).await;
                    }
                    continue;
                }
                s.last = e.seq;
                return Some((Ok(to_sse(&e)), s));
            }
            match s.rx.recv().await {
                Ok(e) => s.pending.push_back(e),
                Err(broadcast::error::RecvError::Lagged(_)) => s.catch_up().await,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
