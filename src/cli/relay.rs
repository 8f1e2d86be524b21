//! The start-up check of the mail relay: with none answering, escalation emails wait in the
//! outbox and are retried, which nobody would notice; so `serve` says so once, clearly.
//!
//! Rules:
//! - The check only opens (and closes) a TCP connection to the relay named by `smtp_url`;
//!   it sends nothing and never delays start-up (it runs on its own thread).
//! - The warning names the host and port, never the credentials in the URL.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long to wait for the relay to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The relay's host and port from a lettre SMTP URL (`smtp://host:port`, `smtps://user:pass@host`);
/// the port defaults to 25 (`smtp`) or 465 (`smtps`).
pub fn relay_address(smtp_url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = smtp_url.split_once("://")?;
    let default_port = match scheme {
        "smtp" => 25,
        "smtps" => 465,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = match host_port.strip_prefix('[') {
        // [IPv6]:port
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            let port = after.strip_prefix(':').map(str::parse).transpose().ok()?;
            (host.to_string(), port)
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host.to_string(), Some(port.parse().ok()?)),
            None => (host_port.to_string(), None),
        },
    };
    (!host.is_empty()).then(|| (host, port.unwrap_or(default_port)))
}

/// Whether something accepts a TCP connection at the relay's address.
pub fn reachable(host: &str, port: u16) -> bool {
    let Ok(addrs) = (host, port).to_socket_addrs() else {
        return false;
    };
    addrs
        .into_iter()
        .any(|addr| TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).is_ok())
}

/// Checks the relay in the background and logs one warning when it does not answer.
pub fn warn_if_unreachable(smtp_url: &str) {
    let url = smtp_url.to_string();
    std::thread::spawn(move || match relay_address(&url) {
        None => tracing::warn!(
            "smtp_url is not an smtp:// or smtps:// URL with a host: escalation emails cannot be sent \
             and wait in the outbox (`cla-tracker outbox list`)"
        ),
        Some((host, port)) if !reachable(&host, port) => tracing::warn!(
            relay = %format!("{host}:{port}"),
            "no mail relay answers at {host}:{port} (smtp_url, CLA_SMTP_URL): escalation emails wait in \
             the outbox and are retried until it does; `cla-tracker outbox list` shows them"
        ),
        Some(_) => {}
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relay_is_found_in_every_url_form_without_its_credentials() {
        let at = |u: &str| relay_address(u);
        assert_eq!(at("smtp://127.0.0.1:2525"), Some(("127.0.0.1".into(), 2525)));
        assert_eq!(
            at("smtps://user:p%40ss@relay.example:465"),
            Some(("relay.example".into(), 465))
        );
        assert_eq!(at("smtps://relay.example"), Some(("relay.example".into(), 465)));
        assert_eq!(
            at("smtp://relay.example?tls=required"),
            Some(("relay.example".into(), 25))
        );
        assert_eq!(at("smtp://[::1]:2525"), Some(("::1".into(), 2525)));
        assert_eq!(at("http://relay.example"), None);
        assert_eq!(at("smtp://"), None);
        assert_eq!(at("smtp://relay:notaport"), None);
    }

    #[test]
    fn a_closed_port_is_unreachable_and_a_listening_one_is_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("its address").port();
        assert!(reachable("127.0.0.1", port));
        drop(listener);
        assert!(!reachable("127.0.0.1", port), "nothing listens once it is closed");
    }
}
