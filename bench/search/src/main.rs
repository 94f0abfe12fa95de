//! gongkai's search engine against SQLite FTS5 (trigram tokenizer) and PostgreSQL pg_trgm,
//! on the same generated items and the same queries, in one run: indexing throughput, index
//! size, query latency at 1 and 16 clients, result overlap, and the ratios.
//!
//!   gongkai-bench-search [--n 1000000] [--json out.json] [--pg "host=127.0.0.1 user=postgres"]
//!                        [--corpus PATH] [--work DIR] [--clients 16] [--per-client 200]
//!                        [--max-secs 30] [--per-class 30] [--count-sample 5]
//!                        [--engines gongkai,fts5,pg] [--seed 42] [--writer-mb 512] [--keep]
//!
//! Method:
//! - Items 1..N are generated from sentences of the government work reports (`data.rs`), each
//!   from its own id, so every engine gets the same items without all of them in memory;
//!   generating is part of every engine's load time (its cost alone is printed).
//! - gongkai: `Engine` on disk, upserts in batches of 10,000, one commit (searchable); then
//!   the background merges are waited for (reported apart) before the queries. Queries go
//!   through `query::run`, which also builds each hit (stored fields, highlighted snippet);
//!   the references return ids only.
//! - FTS5: one table `fts5(title, body, year/col/ts UNINDEXED, tokenize='trigram')`, one
//!   insert transaction, then 'optimize'. Terms of 3+ characters: MATCH, bm25 order (title
//!   weight 3). 2-character terms (every one-word, two-word and filtered query here): the
//!   trigram index cannot serve them, so `(title || ' ' || body) LIKE '%词%'`, a scan of the
//!   whole table, newest first.
//! - PostgreSQL: COPY, primary key, GIN gin_trgm_ops on title and on body, VACUUM ANALYZE.
//!   Every term as `(title LIKE '%词%' OR body LIKE '%词%')`, newest first. pg_trgm gets no
//!   trigram out of a 2-character `%词%`, so those plan as sequential scans (EXPLAIN printed).
//! - Latency: per class, one unmeasured pass, then 1 client and `--clients` threads, each with
//!   its own connection, each running the class's queries shuffled, `--per-client` queries
//!   or `--max-secs`, whichever comes first.
//! - Overlap: gongkai matches jieba words, the references substrings; the share of
//!   gongkai's top 10 that contain the terms as substrings, and gongkai's total against the
//!   substring COUNT(*) for a sample, both from the FTS5 table.

mod data;
mod engines;
mod harness;
mod queries;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use harness::{Lat, Plan};
use queries::{CLASSES, Class, Q};

struct Args {
    n: usize,
    corpus: String,
    json: Option<PathBuf>,
    pg: String,
    work: PathBuf,
    clients: usize,
    per_client: usize,
    max_secs: u64,
    per_class: usize,
    count_sample: usize,
    engines: Vec<String>,
    seed: u64,
    writer_mb: usize,
    keep: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        n: 1_000_000,
        corpus: "/work/shared/data/corpus/government_work_reports.jsonl".into(),
        json: None,
        pg: std::env::var("BENCH_PG").unwrap_or_else(|_| "host=127.0.0.1 user=postgres".into()),
        work: std::env::temp_dir().join("gongkai-bench-search"),
        clients: 16,
        per_client: 200,
        max_secs: 30,
        per_class: 30,
        count_sample: 5,
        engines: vec!["gongkai".into(), "fts5".into(), "pg".into()],
        seed: 42,
        writer_mb: 512,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--keep" {
            a.keep = true;
            continue;
        }
        if flag == "-h" || flag == "--help" {
            return Err("usage: see the top of bench/search/src/main.rs".into());
        }
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = |v: &str| v.replace('_', "").parse::<usize>().map_err(|_| format!("{flag}: not a number: {v}"));
        match flag.as_str() {
            "--n" => a.n = num(&v)?,
            "--corpus" => a.corpus = v,
            "--json" => a.json = Some(v.into()),
            "--pg" => a.pg = v,
            "--work" => a.work = v.into(),
            "--clients" => a.clients = num(&v)?.max(1),
            "--per-client" => a.per_client = num(&v)?.max(1),
            "--max-secs" => a.max_secs = num(&v)?.max(1) as u64,
            "--per-class" => a.per_class = num(&v)?.max(1),
            "--count-sample" => a.count_sample = num(&v)?,
            "--engines" => a.engines = v.split(',').map(|s| s.trim().to_string()).collect(),
            "--seed" => a.seed = num(&v)? as u64,
            "--writer-mb" => a.writer_mb = num(&v)?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if a.n == 0 {
        return Err("--n must be at least 1".into());
    }
    Ok(a)
}

/// VmHWM and VmRSS of this process, in MiB.
fn rss() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
            / 1024.0
    };
    (kb("VmHWM:"), kb("VmRSS:"))
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

struct Phases(Vec<(String, f64)>, Instant);

impl Phases {
    fn done(&mut self, name: &str, since: Instant) -> f64 {
        let s = since.elapsed().as_secs_f64();
        println!("[{:>7.1} s] phase {name}: {s:.2} s", self.1.elapsed().as_secs_f64());
        self.0.push((name.to_string(), s));
        s
    }
}

/// Latency of every class at 1 client and at `clients`, after one unmeasured pass.
fn measure<C>(
    engine: &str,
    a: &Args,
    qs: &[Q],
    open: &(dyn Fn() -> Result<C, String> + Sync),
    exec: &(dyn Fn(&mut C, &Q) -> Result<usize, String> + Sync),
) -> Result<HashMap<(&'static str, usize), Lat>, String> {
    let mut out = HashMap::new();
    let max = Duration::from_secs(a.max_secs);
    for class in CLASSES {
        let cq: Vec<Q> = qs.iter().filter(|q| q.class == class).cloned().collect();
        harness::warm(&cq, max / 2, open, exec).map_err(|e| format!("{engine} {}: {e}", class.name()))?;
        for clients in [1, a.clients] {
            let plan = Plan { clients, per_client: a.per_client, max, seed: a.seed };
            let l = harness::run(&plan, &cq, open, exec);
            println!(
                "  {engine:<8} {:<9} c{clients:<3} n={:<5} p50={:>9.2} ms p99={:>9.2} ms mean={:>9.2} ms qps={:>9.1}{}",
                class.name(),
                l.queries,
                l.p50_ms,
                l.p99_ms,
                l.mean_ms,
                l.qps,
                l.first_error.as_deref().map(|e| format!("  ERRORS={} first: {e}", l.errors)).unwrap_or_default()
            );
            out.insert((class.name(), clients), l);
        }
    }
    Ok(out)
}

struct EngineRun {
    name: &'static str,
    load_s: f64,
    size: u64,
    lat: HashMap<(&'static str, usize), Lat>,
    detail: Value,
}

fn lat_json(lat: &HashMap<(&'static str, usize), Lat>, clients: usize) -> Value {
    let mut m = serde_json::Map::new();
    for class in CLASSES {
        let mut c = serde_json::Map::new();
        for k in [1, clients] {
            if let Some(l) = lat.get(&(class.name(), k)) {
                c.insert(format!("c{k}"), l.json());
            }
        }
        m.insert(class.name().into(), Value::Object(c));
    }
    Value::Object(m)
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<(), String> {
    let a = parse_args()?;
    let want = |e: &str| a.engines.iter().any(|x| x == e);
    let mut ph = Phases(Vec::new(), Instant::now());
    let n = a.n;
    println!("# gongkai search vs SQLite FTS5 (trigram) vs PostgreSQL pg_trgm, N = {n}");
    println!(
        "cpus={} clients={} per_client={} max_secs={} (per class and client count) seed={}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        a.clients,
        a.per_client,
        a.max_secs,
        a.seed
    );

    let t = Instant::now();
    let corpus = data::load(&a.corpus)?;
    let g = data::Generator::new(&corpus, a.seed);
    let (qs, dropped) = queries::build(&corpus, a.per_class, 3);
    ph.done("read corpus, build query sets", t);
    println!("corpus: {} sentences, {} title clauses", corpus.sentences.len(), corpus.clauses.len());
    for class in CLASSES {
        let list: Vec<String> = qs.iter().filter(|q| q.class == class).map(Q::label).collect();
        println!("queries {} ({}): {}", class.name(), list.len(), list.join(" | "));
    }
    for (class, d) in &dropped {
        if !d.is_empty() {
            println!("  not in the corpus, left out of {}: {}", class.name(), d.join(" | "));
        }
    }

    // Generation alone, so its share of each engine's load time is known (every engine's
    // load generates the items as it goes, the same way).
    let t = Instant::now();
    let (mut body_chars, mut title_chars, mut with_no) = (0usize, 0usize, 0usize);
    for id in 1..=n as i64 {
        let it = g.item(id);
        body_chars += it.body.chars().count();
        title_chars += it.title.chars().count();
        with_no += usize::from(!it.doc_no.is_empty());
    }
    let gen_s = ph.done("generate all items (dry pass, included in every load below)", t);
    println!(
        "items: avg body {:.0} chars, avg title {:.1} chars, {:.0}% with 文号; sample: {} | {} | {}",
        body_chars as f64 / n as f64,
        title_chars as f64 / n as f64,
        100.0 * with_no as f64 / n as f64,
        g.item(1).title,
        g.item(2).title,
        (1..=n as i64).map(|id| g.item(id).doc_no).find(|d| !d.is_empty()).unwrap_or_default()
    );

    let _ = std::fs::remove_dir_all(&a.work);
    std::fs::create_dir_all(&a.work).map_err(|e| format!("{}: {e}", a.work.display()))?;
    let (hwm0, rss0) = rss();
    println!("RSS before loading: VmHWM {hwm0:.0} MiB, VmRSS {rss0:.0} MiB");

    let mut runs: Vec<EngineRun> = Vec::new();
    // gongkai's top 10 and total of each query, for the overlap check against FTS5.
    let mut gk_answers: Vec<(Vec<i64>, usize)> = Vec::new();

    // ------------------------------------------------------------ gongkai
    if want("gongkai") {
        println!("\n## gongkai-search (tantivy + jieba, in process, on disk, writer {} MB)", a.writer_mb);
        let dir = a.work.join("gongkai");
        let t = Instant::now();
        let gk = engines::gk_load(&dir, &g, n, a.writer_mb)?;
        ph.done("gongkai load + commit + merge settle", t);
        let (hwm1, rss1) = rss();
        println!(
            "load (upsert in batches of {} + one commit, searchable): {:.2} s = {:.0} items/s; background merges settled in {:.2} s more",
            engines::BATCH,
            gk.load_s,
            n as f64 / gk.load_s,
            gk.settle_s
        );
        println!(
            "index: {:.1} MiB in {} segments at commit, {:.1} MiB in {} segments settled",
            mib(gk.size_at_commit),
            gk.segments_at_commit,
            mib(gk.size_settled),
            gk.segments_settled
        );
        println!("RSS after load: VmHWM {hwm1:.0} MiB, VmRSS {rss1:.0} MiB");
        let e = &gk.engine;
        let syn: HashMap<String, Vec<String>> = HashMap::new();
        let t = Instant::now();
        for q in &qs {
            gk_answers.push(engines::gk_search(e, &syn, q)?);
        }
        let open = || Ok::<(), String>(());
        let exec = |_: &mut (), q: &Q| engines::gk_search(e, &syn, q).map(|r| r.0.len());
        let lat = measure("gongkai", &a, &qs, &open, &exec)?;
        ph.done("gongkai queries", t);
        let (hwm2, rss2) = rss();
        println!("RSS after queries: VmHWM {hwm2:.0} MiB, VmRSS {rss2:.0} MiB");
        let zero: Vec<String> = qs.iter().zip(&gk_answers).filter(|(_, r)| r.1 == 0).map(|(q, _)| q.label()).collect();
        if !zero.is_empty() {
            println!("gongkai found nothing for: {}", zero.join(" | "));
        }
        runs.push(EngineRun {
            name: "gongkai",
            load_s: gk.load_s,
            size: gk.size_settled,
            lat,
            detail: json!({
                "load_s": gk.load_s,
                "items_per_s": n as f64 / gk.load_s,
                "settle_s": gk.settle_s,
                "items_per_s_incl_settle": n as f64 / (gk.load_s + gk.settle_s),
                "segments_at_commit": gk.segments_at_commit,
                "segments_settled": gk.segments_settled,
                "size_bytes_at_commit": gk.size_at_commit,
                "size_bytes": gk.size_settled,
                "writer_mb": a.writer_mb,
                "rss_mib": {
                    "before_load": {"hwm": hwm0, "rss": rss0},
                    "after_load": {"hwm": hwm1, "rss": rss1},
                    "after_queries": {"hwm": hwm2, "rss": rss2},
                },
            }),
        });
        drop(gk);
    }

    // ------------------------------------------------------------ SQLite FTS5
    let mut overlap = Value::Null;
    if want("fts5") {
        println!(
            "\n## SQLite FTS5, tokenize='trigram' (bundled SQLite, in process, one read-only connection per client)"
        );
        let path = a.work.join("fts5.db");
        let t = Instant::now();
        let f = engines::fts_load(&path, &g, n)?;
        ph.done("fts5 load + optimize", t);
        let load_s = f.insert_s + f.optimize_s;
        println!(
            "SQLite {}: insert (one transaction) {:.2} s + optimize {:.2} s = {:.2} s = {:.0} items/s; file {:.1} MiB",
            f.version,
            f.insert_s,
            f.optimize_s,
            load_s,
            n as f64 / load_s,
            mib(f.size)
        );
        let c = engines::fts_open(&path)?;
        let mut plans = serde_json::Map::new();
        for class in CLASSES {
            if let Some(q) = qs.iter().find(|q| q.class == class) {
                let plan = engines::fts_explain(&c, q)?;
                println!("  plan {} ({}): {}", class.name(), q.label(), plan.join(" / "));
                plans.insert(class.name().into(), json!({"query": q.label(), "plan": plan}));
            }
        }
        let t = Instant::now();
        let open = || engines::fts_open(&path);
        let exec = |c: &mut rusqlite::Connection, q: &Q| engines::fts_top10(c, q).map(|r| r.len());
        let lat = measure("fts5", &a, &qs, &open, &exec)?;
        ph.done("fts5 queries", t);

        // How far gongkai's answers agree with substring matching.
        if !gk_answers.is_empty() {
            let t = Instant::now();
            println!("\n## Result overlap: gongkai (jieba words) vs substring matching (FTS5)");
            let mut per_class = serde_json::Map::new();
            for class in CLASSES {
                let (mut returned, mut matched) = (0i64, 0i64);
                let mut totals = Vec::new();
                for (q, (ids, total)) in qs.iter().zip(&gk_answers).filter(|(q, _)| q.class == class) {
                    returned += ids.len() as i64;
                    matched += engines::fts_count(&c, q, Some(ids))?;
                    if totals.len() < a.count_sample {
                        let sub = engines::fts_count(&c, q, None)?;
                        totals.push(json!({"query": q.label(), "gongkai_total": total, "substring_count": sub}));
                    }
                }
                let frac = if returned > 0 { matched as f64 / returned as f64 } else { f64::NAN };
                let shown: Vec<String> = totals
                    .iter()
                    .map(|t| {
                        format!("{} {}/{}", t["query"].as_str().unwrap_or(""), t["gongkai_total"], t["substring_count"])
                    })
                    .collect();
                println!(
                    "  {:<9} top-10 ids that also contain the terms as substrings: {matched}/{returned} = {:.1}%; totals gongkai/substring: {}",
                    class.name(),
                    100.0 * frac,
                    shown.join(", ")
                );
                per_class.insert(
                    class.name().into(),
                    json!({"top10_returned": returned, "top10_substring_match": matched, "fraction": frac, "totals": totals}),
                );
            }
            overlap = Value::Object(per_class);
            ph.done("overlap checks", t);
        }
        drop(c);
        runs.push(EngineRun {
            name: "fts5",
            load_s,
            size: f.size,
            lat,
            detail: json!({
                "sqlite_version": f.version,
                "insert_s": f.insert_s,
                "optimize_s": f.optimize_s,
                "load_s": load_s,
                "items_per_s": n as f64 / load_s,
                "size_bytes": f.size,
                "plans": plans,
            }),
        });
        if !a.keep {
            let _ = std::fs::remove_file(&path);
        }
    }

    // ------------------------------------------------------------ PostgreSQL pg_trgm
    if want("pg") {
        println!("\n## PostgreSQL pg_trgm (GIN gin_trgm_ops on title and on body; one connection per client)");
        let t = Instant::now();
        let version = engines::pg_recreate(&a.pg)?;
        let p = engines::pg_load(&a.pg, &g, n)?;
        ph.done("pg load + index build", t);
        let load_s = p.copy_s + p.index_s + p.analyze_s;
        let settings: Vec<String> = p.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "PostgreSQL {version} ({}): COPY {:.2} s + primary key and GIN indexes {:.2} s + VACUUM ANALYZE {:.2} s = {:.2} s = {:.0} items/s; table+indexes {:.1} MiB (indexes {:.1} MiB)",
            settings.join(" "),
            p.copy_s,
            p.index_s,
            p.analyze_s,
            load_s,
            n as f64 / load_s,
            mib(p.total_size),
            mib(p.index_size)
        );
        let mut c = engines::pg_connect(&a.pg, engines::PG_DB)?;
        let trgm = engines::pg_trgm_check(&mut c)?;
        println!("  show_trgm('高质量发展') has {trgm} trigrams (0 would mean Chinese is not indexed)");
        let mut plans = serde_json::Map::new();
        for class in CLASSES {
            if let Some(q) = qs.iter().find(|q| q.class == class) {
                let plan = engines::pg_explain(&mut c, q)?;
                let top = plan.first().cloned().unwrap_or_default();
                let scans: Vec<String> = plan
                    .iter()
                    .filter(|l| l.contains("Scan"))
                    .map(|l| l.trim().trim_start_matches("-> ").to_string())
                    .collect();
                let uses_index = scans.iter().any(|l| l.contains("_trgm"));
                println!(
                    "  plan {} ({}): {}  | scans: {}  | trigram index used: {}",
                    class.name(),
                    q.label(),
                    top.trim(),
                    scans.join(" ; "),
                    if uses_index { "yes" } else { "no" }
                );
                plans.insert(class.name().into(), json!({"query": q.label(), "plan": plan, "uses_index": uses_index}));
            }
        }
        drop(c);
        let t = Instant::now();
        let base = a.pg.clone();
        let open = move || engines::pg_connect(&base, engines::PG_DB);
        let exec = |c: &mut postgres::Client, q: &Q| engines::pg_top10(c, q).map(|r| r.len());
        let lat = measure("pg_trgm", &a, &qs, &open, &exec)?;
        ph.done("pg queries", t);
        if !a.keep {
            engines::pg_drop(&a.pg)?;
        }
        runs.push(EngineRun {
            name: "pg_trgm",
            load_s,
            size: p.total_size,
            lat,
            detail: json!({
                "version": version,
                "settings": p.settings.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "copy_s": p.copy_s,
                "index_s": p.index_s,
                "analyze_s": p.analyze_s,
                "load_s": load_s,
                "items_per_s": n as f64 / load_s,
                "size_bytes": p.total_size,
                "index_bytes": p.index_size,
                "show_trgm_count": trgm,
                "plans": plans,
            }),
        });
    }
    if !a.keep {
        let _ = std::fs::remove_dir_all(&a.work);
    }

    // ------------------------------------------------------------ summary
    println!("\n## Summary, N = {n} (generation alone: {gen_s:.2} s, included in every load)");
    println!("\n| engine | load s | items/s | index MiB |");
    println!("|---|---:|---:|---:|");
    for r in &runs {
        println!("| {} | {:.2} | {:.0} | {:.1} |", r.name, r.load_s, n as f64 / r.load_s, mib(r.size));
    }
    let k = a.clients;
    println!(
        "\n| class | engine | c1 p50 ms | c1 p99 ms | c1 mean ms | c1 QPS | c{k} p50 ms | c{k} p99 ms | c{k} mean ms | c{k} QPS |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for class in CLASSES {
        for r in &runs {
            let l1 = r.lat.get(&(class.name(), 1)).cloned().unwrap_or_default();
            let lk = r.lat.get(&(class.name(), k)).cloned().unwrap_or_default();
            println!(
                "| {} | {} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} | {:.2} | {:.2} | {:.1} |",
                class.name(),
                r.name,
                l1.p50_ms,
                l1.p99_ms,
                l1.mean_ms,
                l1.qps,
                lk.p50_ms,
                lk.p99_ms,
                lk.mean_ms,
                lk.qps
            );
        }
    }
    let mut ratios = serde_json::Map::new();
    if let Some(gk) = runs.iter().find(|r| r.name == "gongkai") {
        println!(
            "\nRatios reference / gongkai for latency (above 1: gongkai faster), gongkai / reference for QPS and items/s:"
        );
        println!("\n| reference | class | c1 p50 | c1 p99 | c{k} p50 | c{k} p99 | c{k} QPS |");
        println!("|---|---|---:|---:|---:|---:|---:|");
        for r in runs.iter().filter(|r| r.name != "gongkai") {
            let mut per = serde_json::Map::new();
            for class in CLASSES {
                let get = |run: &EngineRun, c: usize| run.lat.get(&(class.name(), c)).cloned().unwrap_or_default();
                let (g1, gk_) = (get(gk, 1), get(gk, k));
                let (r1, rk) = (get(r, 1), get(r, k));
                let v = [
                    r1.p50_ms / g1.p50_ms,
                    r1.p99_ms / g1.p99_ms,
                    rk.p50_ms / gk_.p50_ms,
                    rk.p99_ms / gk_.p99_ms,
                    gk_.qps / rk.qps,
                ];
                println!(
                    "| {} | {} | {:.1}x | {:.1}x | {:.1}x | {:.1}x | {:.1}x |",
                    r.name,
                    class.name(),
                    v[0],
                    v[1],
                    v[2],
                    v[3],
                    v[4]
                );
                per.insert(
                    class.name().into(),
                    json!({"c1_p50": v[0], "c1_p99": v[1], format!("c{k}_p50"): v[2], format!("c{k}_p99"): v[3], format!("c{k}_qps"): v[4]}),
                );
            }
            let load = (n as f64 / gk.load_s) / (n as f64 / r.load_s);
            let size = gk.size as f64 / r.size.max(1) as f64;
            println!("| {} | load items/s | {load:.2}x | | | | |", r.name);
            println!("| {} | index size gongkai/reference | {size:.2}x | | | | |", r.name);
            per.insert("load_items_per_s".into(), json!(load));
            per.insert("size_gongkai_over_reference".into(), json!(size));
            ratios.insert(r.name.into(), Value::Object(per));
        }
    }
    println!("\nphases:");
    for (name, s) in &ph.0 {
        println!("  {s:>9.2} s  {name}");
    }

    if let Some(path) = &a.json {
        let engines_json: serde_json::Map<String, Value> = runs
            .iter()
            .map(|r| {
                let mut d = r.detail.clone();
                if let Some(o) = d.as_object_mut() {
                    o.insert("latency".into(), lat_json(&r.lat, k));
                }
                (r.name.to_string(), d)
            })
            .collect();
        let out = json!({
            "n": n,
            "seed": a.seed,
            "corpus": a.corpus,
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "clients": k,
            "per_client": a.per_client,
            "max_secs": a.max_secs,
            "generation_s": gen_s,
            "avg_body_chars": body_chars as f64 / n as f64,
            "queries": CLASSES.iter().map(|c: &Class| (c.name().to_string(), json!(qs.iter().filter(|q| q.class == *c).map(Q::label).collect::<Vec<_>>()))).collect::<serde_json::Map<_, _>>(),
            "engines": engines_json,
            "ratios_reference_over_gongkai_latency": ratios,
            "overlap": overlap,
            "phases_s": ph.0.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        });
        let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("\nJSON written to {}", path.display());
    }
    Ok(())
}
