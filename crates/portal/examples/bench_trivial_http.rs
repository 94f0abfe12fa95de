//! A trivial axum server for `bench/portal.sh`'s analysis: the ceiling of the HTTP stack
//! gongkai is built on (same axum, hyper and tokio versions) on this machine, with none of
//! gongkai's middleware or page lookup. Serves the bytes of one file for every GET.
//!
//! ```sh
//! bench_trivial_http 127.0.0.1:9000 page.html
//! ```

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::get;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: bench_trivial_http ADDR FILE");
        std::process::exit(2);
    };
    let body = Bytes::from(std::fs::read(&file).unwrap_or_else(|e| {
        eprintln!("bench_trivial_http: {file}: {e}");
        std::process::exit(1)
    }));
    let app = Router::new().fallback(get(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body) }
    }));
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap_or_else(|e| {
        eprintln!("bench_trivial_http: bind {addr}: {e}");
        std::process::exit(1)
    });
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("bench_trivial_http: {e}");
        std::process::exit(1);
    }
}
