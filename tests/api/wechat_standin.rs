//! A local stand-in for WeChat's web authorisation (网页授权), speaking the same protocol:
//! `connect/oauth2/authorize` redirects back with a single-use code, and
//! `sns/oauth2/access_token` trades that code for the openid of "the person holding the
//! phone" — whoever the test says that is; `cgi-bin/token` and `cgi-bin/ticket/getticket`
//! hand out the JS-SDK ticket.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub const APPID: &str = "wx-test-appid";
pub const SECRET: &str = "wx-test-secret";
/// The ticket from WeChat's published signature example.
pub const JSAPI_TICKET: &str =
    "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg";

#[derive(Default)]
struct Inner {
    /// The openid of whoever is using the phone now.
    openid: String,
    codes: HashMap<String, String>,
    used: Vec<String>,
    exchanges: usize,
    next_code: u64,
}

#[derive(Clone)]
pub struct WeChat {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

fn query(target: &str) -> HashMap<String, String> {
    let q = target.split_once('?').map_or("", |(_, q)| q);
    let q = q.split('#').next().unwrap_or_default();
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

impl WeChat {
    pub fn start() -> WeChat {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind stand-in");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let inner = Arc::new(Mutex::new(Inner::default()));
        let shared = inner.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // Drain the headers; the stand-in's requests carry no body.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let target = line.split(' ').nth(1).unwrap_or("/").to_owned();
                let reply = answer(&shared, &target);
                let mut stream = stream;
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        WeChat { base, inner }
    }

    /// The phone now belongs to someone with this openid.
    pub fn hold_phone(&self, openid: &str) {
        self.inner.lock().unwrap().openid = openid.to_owned();
    }

    /// How many codes were traded for an openid.
    pub fn exchanges(&self) -> usize {
        self.inner.lock().unwrap().exchanges
    }
}

fn answer(shared: &Mutex<Inner>, target: &str) -> String {
    let q = query(target);
    let mut inner = shared.lock().unwrap();
    if target.starts_with("/connect/oauth2/authorize") {
        if q.get("appid").map(String::as_str) != Some(APPID)
            || q.get("scope").map(String::as_str) != Some("snsapi_base")
            || q.get("response_type").map(String::as_str) != Some("code")
        {
            return http("400 Bad Request", "text/plain", "bad authorize request");
        }
        inner.next_code += 1;
        let code = format!("code{:06}", inner.next_code);
        let openid = inner.openid.clone();
        inner.codes.insert(code.clone(), openid);
        let location = format!(
            "{}?code={code}&state={}",
            q["redirect_uri"],
            q.get("state").cloned().unwrap_or_default()
        );
        return format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }
    if target.starts_with("/sns/oauth2/access_token") {
        let code = q.get("code").cloned().unwrap_or_default();
        let ok = q.get("appid").map(String::as_str) == Some(APPID)
            && q.get("secret").map(String::as_str) == Some(SECRET)
            && q.get("grant_type").map(String::as_str) == Some("authorization_code");
        let body = match inner.codes.get(&code).cloned() {
            Some(openid) if ok && !inner.used.contains(&code) => {
                inner.used.push(code);
                inner.exchanges += 1;
                format!(
                    r#"{{"access_token":"ACCESS","expires_in":7200,"refresh_token":"REFRESH","openid":"{openid}","scope":"snsapi_base"}}"#
                )
            }
            Some(_) if ok => r#"{"errcode":40163,"errmsg":"code been used"}"#.to_owned(),
            _ => r#"{"errcode":40029,"errmsg":"invalid code"}"#.to_owned(),
        };
        return http("200 OK", "application/json", &body);
    }
    if target.starts_with("/cgi-bin/token") {
        let ok = q.get("appid").map(String::as_str) == Some(APPID)
            && q.get("secret").map(String::as_str) == Some(SECRET)
            && q.get("grant_type").map(String::as_str) == Some("client_credential");
        let body = if ok {
            r#"{"access_token":"APP-ACCESS","expires_in":7200}"#
        } else {
            r#"{"errcode":40013,"errmsg":"invalid appid"}"#
        };
        return http("200 OK", "application/json", body);
    }
    if target.starts_with("/cgi-bin/ticket/getticket") {
        let ok = q.get("access_token").map(String::as_str) == Some("APP-ACCESS")
            && q.get("type").map(String::as_str) == Some("jsapi");
        let body = if ok {
            format!(r#"{{"errcode":0,"errmsg":"ok","ticket":"{JSAPI_TICKET}","expires_in":7200}}"#)
        } else {
            r#"{"errcode":40001,"errmsg":"invalid credential"}"#.to_owned()
        };
        return http("200 OK", "application/json", &body);
    }
    http("404 Not Found", "text/plain", "not found")
}

fn http(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
