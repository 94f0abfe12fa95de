//! Publishing throughput through the service layer (create → submit → approve), for
//! `bench/publish.sh`:
//!
//! ```sh
//! bench_publish --database-url sqlite:///tmp/x/gongkai.db --items 2000 --concurrency 4
//! ```
//!
//! Prepares the database (migrations, demo district, cms reference data, one column with
//! one review level, an editor and a reviewer with district-wide grants; not timed), then
//! publishes `--items` items from `--concurrency` tasks and prints one line:
//! `items=N concurrency=C seconds=S items_per_s=R`.

use std::time::Instant;

use gongkai_cms::service::{self, ColumnInput, ItemInput};
use gongkai_kernel::auth::Role;
use gongkai_kernel::db::Db;
use gongkai_kernel::testkit;

const CORPUS: &str = include_str!("../../../data/corpus/reports-2014-2025.jsonl");

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn fail(msg: String) -> ! {
    eprintln!("bench_publish: {msg}");
    std::process::exit(1)
}

#[tokio::main]
async fn main() {
    let url = arg("--database-url").unwrap_or_else(|| fail("--database-url is required".into()));
    let items: usize = arg("--items").map(|s| s.parse().unwrap_or_else(|_| fail("bad --items".into()))).unwrap_or(1000);
    let conc: usize = arg("--concurrency")
        .map(|s| s.parse().unwrap_or_else(|_| fail("bad --concurrency".into())))
        .unwrap_or(1)
        .max(1);
    let db = Db::connect(&url).await.unwrap_or_else(|e| fail(e.to_string()));
    db.migrate().await.unwrap_or_else(|e| fail(e.to_string()));
    gongkai_kernel::demo::seed(&db).await.unwrap_or_else(|e| fail(e.to_string()));
    gongkai_cms::init(&db).await.unwrap_or_else(|e| fail(e.to_string()));

    let admin = testkit::principal(&db, testkit::user_with_role(&db, "benchadmin", Some(Role::SysAdmin)).await).await;
    let editor = testkit::principal(&db, testkit::user_with_role(&db, "benchedit", Some(Role::Editor)).await).await;
    let reviewer =
        testkit::principal(&db, testkit::user_with_role(&db, "benchreview", Some(Role::Reviewer)).await).await;
    let (site_id, org_id) = {
        let mut h = db.read().await.unwrap_or_else(|e| fail(e.to_string()));
        let sites = gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap_or_else(|e| fail(e.to_string()));
        let www = sites.into_iter().find(|s| s.code == "www").unwrap_or_else(|| fail("no www site".into()));
        (www.id, www.org_id.unwrap_or_else(|| fail("www has no organisation".into())))
    };
    let column = service::create_column(
        &db,
        &admin,
        "bench",
        &ColumnInput {
            site_id: site_id.to_string(),
            name: "基准测试".into(),
            slug: "bench".into(),
            kind: "list".into(),
            class: "notice".into(),
            review_levels: "1".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_or_else(|e| fail(e.to_string()));

    let mut paras: Vec<String> = Vec::new();
    for line in CORPUS.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        for p in v["content"].as_str().unwrap_or_default().split('\n').map(str::trim) {
            if (60..=900).contains(&p.chars().count()) {
                paras.push(p.to_string());
            }
        }
    }
    let paras = std::sync::Arc::new(paras);

    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..conc {
        let (db, editor, reviewer, paras) = (db.clone(), editor.clone(), reviewer.clone(), paras.clone());
        let share = items / conc + usize::from(t < items % conc);
        tasks.push(tokio::spawn(async move {
            for k in 0..share {
                let n = t * 1_000_000 + k;
                let p = &paras[n % paras.len()];
                let input = ItemInput {
                    home_column_id: column.id.to_string(),
                    class_code: "notice".into(),
                    title: format!("基准测试通知（{t}-{k}）：{}", p.chars().take(30).collect::<String>()),
                    body: format!("<p>{p}</p><p>{}</p>", paras[(n + 7) % paras.len()]),
                    publisher_org_id: org_id.to_string(),
                    written_on: "2025-06-01".into(),
                    keywords: "基准,测试".into(),
                    ..Default::default()
                };
                let item = service::create_item(&db, &editor, "bench", &input).await?;
                service::submit(&db, &editor, "bench", item.id, true).await?;
                let out = service::approve(&db, &reviewer, "bench", item.id, None, "", "基准测试").await?;
                if out.status != "published" {
                    return Err(gongkai_kernel::Error::internal(format!("not published: {}", out.status)));
                }
            }
            Ok::<_, gongkai_kernel::Error>(())
        }));
    }
    for t in tasks {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => fail(e.to_string()),
            Err(e) => fail(e.to_string()),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    db.close().await;
    println!("items={items} concurrency={conc} seconds={secs:.3} items_per_s={:.1}", items as f64 / secs);
}
