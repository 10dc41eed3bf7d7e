//! Notifications by e-mail: addresses given with appeals and set on cadres' accounts, delivered
//! through lettre to an SMTP server listening on loopback in this process.

use reqwest::StatusCode;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use yongxin_domain::Role;
use yongxin_web::background::{drain_outbox, Delivery, MessageSender, Postroom, SmtpRelay};

use crate::on_each_backend;
use crate::support::TestApp;

on_each_backend!(
    residents_and_cadres_are_told_by_email_through_an_smtp_server,
    bad_addresses_are_refused_and_change_nothing,
);

/// One message as the server took it.
#[derive(Debug, Clone)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Mailbox {
    received: Vec<Received>,
    /// Answers this many `MAIL FROM`s with 451 (a relay that is temporarily unavailable).
    refuse: u32,
}

/// An SMTP server (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT)
/// on an ephemeral loopback port, keeping what it is given.
async fn smtp_server() -> (String, Arc<Mutex<Mailbox>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let mailbox: Arc<Mutex<Mailbox>> = Arc::default();
    let shared = mailbox.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(session(stream, shared.clone()));
        }
    });
    (url, mailbox)
}

async fn session(stream: tokio::net::TcpStream, mailbox: Arc<Mutex<Mailbox>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await.unwrap();
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10485760".into()
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            "250 sink.test".into()
        } else if upper.starts_with("MAIL FROM:") {
            let mut m = mailbox.lock().unwrap();
            if m.refuse > 0 {
                m.refuse -= 1;
                "451 4.3.0 try again later".into()
            } else {
                from = address_in(&command);
                to.clear();
                "250 2.1.0 ok".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            to.push(address_in(&command));
            "250 2.1.5 ok".into()
        } else if upper == "DATA" {
            write
                .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                .await
                .unwrap();
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            mailbox
                .lock()
                .unwrap()
                .received
                .push(parse(&from, &to, &data));
            "250 2.0.0 queued".into()
        } else if upper == "RSET" {
            (from, to) = (String::new(), Vec::new());
            "250 2.0.0 ok".into()
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 2.0.0 bye\r\n").await;
            return;
        } else {
            "502 5.5.2 unknown command".into()
        };
        write
            .write_all(format!("{reply}\r\n").as_bytes())
            .await
            .unwrap();
    }
}

fn address_in(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command.rfind('>').unwrap_or(command.len());
    command[start..end].to_owned()
}

/// Splits a message into unfolded headers and its decoded text body.
fn parse(from: &str, to: &[String], data: &str) -> Received {
    let (head, body) = data.split_once("\r\n\r\n").unwrap();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            headers.last_mut().unwrap().1.push_str(line.trim_start());
        } else {
            let (k, v) = line.split_once(':').unwrap();
            headers.push((k.to_owned(), v.trim().to_owned()));
        }
    }
    let mut mail = Received {
        mail_from: from.to_owned(),
        rcpt_to: to.to_vec(),
        headers,
        body: String::new(),
    };
    mail.body = match mail
        .header("Content-Transfer-Encoding")
        .to_ascii_lowercase()
        .as_str()
    {
        "base64" => String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(body.replace("\r\n", ""))
                .unwrap(),
        )
        .unwrap(),
        "7bit" | "8bit" | "" => body.trim_end().to_owned(),
        other => panic!("a transfer encoding this server does not decode: {other}"),
    };
    mail
}

/// Decodes RFC 2047 `=?utf-8?b?…?=` words, as a mail reader shows a subject: the space between
/// two encoded words is dropped, any other kept.
fn decoded_words(header: &str) -> String {
    let mut out = String::new();
    let mut last_encoded = false;
    for (i, word) in header.split_whitespace().enumerate() {
        let lower = word.to_ascii_lowercase();
        let encoded = lower.starts_with("=?utf-8?b?") && lower.ends_with("?=");
        if i > 0 && !(encoded && last_encoded) {
            out.push(' ');
        }
        if encoded {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&word[10..word.len() - 2])
                .unwrap();
            out.push_str(&String::from_utf8(bytes).unwrap());
        } else {
            out.push_str(word);
        }
        last_encoded = encoded;
    }
    out
}

/// Hands a message to the relay and then fails before the outbox records it, as a process
/// killed at that moment would.
struct CrashAfterHandingOver(SmtpRelay);

#[async_trait::async_trait]
impl MessageSender for CrashAfterHandingOver {
    async fn send(&self, m: &Delivery) -> Result<(), String> {
        self.0.send(m).await?;
        Err("killed before recording".into())
    }
}

use crate::support::post_json as post;

async fn residents_and_cadres_are_told_by_email_through_an_smtp_server(app: TestApp) {
    let (smtp_url, mailbox) = smtp_server().await;
    let relay = SmtpRelay::new(&smtp_url, "用心街道办 <notify@jiedao.example.cn>").unwrap();
    let postroom = Postroom {
        sms: None,
        mail: Some(relay.clone()),
    };
    let state = yongxin_web::AppState::new(app.store.clone(), yongxin_web::WebSettings::default());

    // An admin gives the grid worker an address on the users page.
    let grid_id = app.user_id("grid").await;
    let admin = app.sign_in_as(Role::Admin).await;
    let res = admin
        .post(app.url(&format!("/admin/users/{grid_id}/email")))
        .form(&[
            ("csrf", app.csrf(&admin).await.as_str()),
            ("email", " WangGe@Jiedao.Example.CN "),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "back to the list");
    let page = crate::support::page(&admin, app.url("/admin/users")).await;
    assert!(
        page.contains("W***@jiedao.example.cn") && !page.contains("WangGe@"),
        "the list shows the address masked"
    );
    let stored = app.store.user(grid_id).await.unwrap().unwrap().email;
    assert_eq!(stored.as_deref(), Some("WangGe@jiedao.example.cn"));

    // A resident files with an address; staff accept and assign the grid worker.
    let resident = app.sign_in_as(Role::Resident).await;
    let (status, a) = post(
        &resident,
        app.url("/api/v1/appeals"),
        json!({"category": "power", "description": "小区停电三天", "contact_email": "zhang.san@example.cn"}),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["contact_email"], "z***@example.cn", "masked in the API");
    let (id, number) = (a["id"].as_i64().unwrap(), a["number"].as_str().unwrap());
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let actions = app.url(&format!("/api/v1/appeals/{id}/actions"));
    for body in [
        json!({"action": "accept"}),
        json!({"action": "assign", "cadre_id": grid_id}),
    ] {
        let (status, v) = post(&staff, actions.clone(), body).await;
        assert_eq!(status, 200, "{v}");
    }

    // The relay is down at first: nothing is lost, and it goes out after the backoff.
    mailbox.lock().unwrap().refuse = 2;
    let now = chrono::Utc::now();
    let report = drain_outbox(&state, &postroom, now).await.unwrap();
    assert_eq!((report.sent, report.failed), (0, 2));
    assert!(mailbox.lock().unwrap().received.is_empty());
    let report = drain_outbox(&state, &postroom, now + chrono::Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!((report.sent, report.failed), (2, 0));
    let received = mailbox.lock().unwrap().received.clone();
    assert_eq!(received.len(), 2);
    let resident_mail = &received[0];
    assert_eq!(resident_mail.rcpt_to, vec!["zhang.san@example.cn"]);
    assert_eq!(resident_mail.mail_from, "notify@jiedao.example.cn");
    assert!(resident_mail.header("To").contains("zhang.san@example.cn"));
    assert!(decoded_words(resident_mail.header("From")).contains("用心街道办"));
    assert_eq!(
        decoded_words(resident_mail.header("Subject")),
        format!("诉求 {number}")
    );
    assert!(
        resident_mail.body.contains("已受理") && resident_mail.body.contains(number),
        "{}",
        resident_mail.body
    );
    let message_id = resident_mail.header("Message-ID").to_owned();
    assert!(
        message_id.starts_with("<outbox.") && message_id.ends_with("@jiedao.example.cn>"),
        "{message_id}"
    );
    let cadre_mail = &received[1];
    assert_eq!(cadre_mail.rcpt_to, vec!["WangGe@jiedao.example.cn"]);
    assert!(cadre_mail.body.contains("新派单") && cadre_mail.body.contains(number));
    assert_eq!(
        drain_outbox(&state, &postroom, now + chrono::Duration::minutes(10))
            .await
            .unwrap()
            .sent,
        0,
        "none is sent twice"
    );

    // Killed between handing a message over and recording it: the resend carries the same
    // Message-ID, so the mail system can drop the repeat.
    let grid = app.sign_in_as(Role::GridWorker).await;
    let (status, v) = post(
        &grid,
        actions.clone(),
        json!({"action": "answer", "reply": "线路已修复，已恢复供电"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let crashing = CrashAfterHandingOver(relay);
    let later = now + chrono::Duration::minutes(20);
    assert_eq!(
        drain_outbox(&state, &crashing, later).await.unwrap().failed,
        1
    );
    let report = drain_outbox(&state, &postroom, later + chrono::Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    let received = mailbox.lock().unwrap().received.clone();
    assert_eq!(received.len(), 4);
    assert!(received[2].body.contains("管道已修复") || received[2].body.contains(number));
    assert_eq!(
        received[2].header("Message-ID"),
        received[3].header("Message-ID")
    );
    assert_ne!(received[2].header("Message-ID"), message_id);
    assert_eq!(app.store.pending_messages().await.unwrap(), 0);

    // An admin clears the address by saving it empty.
    admin
        .post(app.url(&format!("/admin/users/{grid_id}/email")))
        .form(&[("csrf", app.csrf(&admin).await.as_str()), ("email", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(app.store.user(grid_id).await.unwrap().unwrap().email, None);
}

async fn bad_addresses_are_refused_and_change_nothing(app: TestApp) {
    let resident = app.sign_in_as(Role::Resident).await;
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let before = crate::support::json(&staff, app.url("/api/v1/appeals")).await["total"].clone();
    for bad in [
        "zhang",
        "zhang@localhost",
        "张三@example.cn",
        "a b@example.cn",
    ] {
        let (status, v) = post(
            &resident,
            app.url("/api/v1/appeals"),
            json!({"category": "power", "description": "停电", "contact_email": bad}),
        )
        .await;
        assert_eq!(status, 400, "{bad}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("电子邮箱格式不对"),
            "{v}"
        );
    }
    assert_eq!(
        crate::support::json(&staff, app.url("/api/v1/appeals")).await["total"],
        before
    );

    let grid_id = app.user_id("grid").await;
    let admin = app.sign_in_as(Role::Admin).await;
    let csrf = app.csrf(&admin).await;
    let res = admin
        .post(app.url(&format!("/admin/users/{grid_id}/email")))
        .form(&[("csrf", csrf.as_str()), ("email", "not-an-address")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("电子邮箱格式不对"));
    let res = admin
        .post(app.url(&format!("/admin/users/{grid_id}/email")))
        .form(&[
            ("csrf", "0".repeat(64).as_str()),
            ("email", "ok@example.cn"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "without the form's token"
    );
    let leader = app.sign_in_as(Role::Leader).await;
    let res = leader
        .post(app.url(&format!("/admin/users/{grid_id}/email")))
        .form(&[
            ("csrf", app.csrf(&leader).await.as_str()),
            ("email", "ok@example.cn"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "admins only");
    assert_eq!(app.store.user(grid_id).await.unwrap().unwrap().email, None);
}
