//! `gongkai demo`'s content, on SQLite and PostgreSQL.

use std::collections::HashSet;

use gongkai_cms::store;
use gongkai_kernel::testkit::{self, TestDb};
use gongkai_kernel::with_conn;

async fn count(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    with_conn!(&mut h.conn(), x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

async fn all_items(t: &TestDb) -> Vec<store::Item> {
    let mut h = t.db.read().await.unwrap();
    with_conn!(&mut h.conn(), x => sqlx::query_as::<_, store::Item>("SELECT * FROM items ORDER BY id").fetch_all(&mut **x).await)
        .unwrap()
}

#[tokio::test]
async fn demo_content_is_complete_consistent_and_idempotent() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        // Without the kernel demo there is nothing to fill: a clear refusal.
        gongkai_cms::init(&t.db).await.unwrap();
        let err = gongkai_cms::demo::seed(&t.db).await.unwrap_err().to_string();
        assert!(err.contains("演示"), "{name}: {err}");

        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let started = std::time::Instant::now();
        assert!(gongkai_cms::demo::seed(&t.db).await.unwrap(), "{name}: first run creates");
        eprintln!("{name}: demo content in {:?}", started.elapsed());
        let items = count(&t, "SELECT COUNT(*) FROM items").await;
        let audit = count(&t, "SELECT COUNT(*) FROM audit_log").await;
        assert!((250..=400).contains(&items), "{name}: {items} items");
        assert!(!gongkai_cms::demo::seed(&t.db).await.unwrap(), "{name}: second run does nothing");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM items").await, items);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log").await, audit, "{name}: nothing written twice");

        let all = all_items(&t).await;
        for status in ["draft", "in_review", "scheduled", "published", "withdrawn"] {
            assert!(all.iter().any(|i| i.status == status), "{name}: no {status} item");
        }
        assert!(all.iter().any(|i| i.status == "in_review" && i.review_level == 2), "{name}: one waits for 复审");
        assert!(all.iter().filter(|i| i.status == "scheduled").all(|i| i.publish_at.is_some() && !i.live));

        // Every item ever published has a well-formed 索引号 of its publisher, and no two share one.
        let mut seen = HashSet::new();
        let mut h = t.db.read().await.unwrap();
        for i in all.iter().filter(|i| matches!(i.status.as_str(), "published" | "withdrawn")) {
            let no = i.index_no.as_deref().unwrap_or_else(|| panic!("{name}: {} has no 索引号", i.title));
            let (code, year, _) = gongkai_cms::rules::parse_index_no(no).unwrap_or_else(|| panic!("{name}: {no}"));
            let org =
                gongkai_kernel::org::store::get(&mut h.conn(), i.publisher_org_id.unwrap()).await.unwrap().unwrap();
            assert_eq!(Some(code.as_str()), org.index_code(), "{name}: {no}");
            assert_eq!(year.to_string(), i.published_on.as_deref().unwrap()[..4], "{name}: {no}");
            assert!(seen.insert(no.to_string()), "{name}: {no} twice");
            assert!(
                i.published_on.as_deref().unwrap()
                    <= gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today()).as_str()
            );
        }
        assert!(seen.len() >= 250, "{name}: {} published", seen.len());
        for i in all.iter().filter(|i| matches!(i.status.as_str(), "draft" | "in_review" | "scheduled")) {
            assert!(i.index_no.is_none() && !i.live, "{name}: {} not published yet", i.title);
        }

        // Interpretations are linked to their policy documents, and one policy waits for one.
        let interps: Vec<&store::Item> = all.iter().filter(|i| i.class_code == "interpretation").collect();
        assert!(interps.len() >= 5, "{name}");
        for i in &interps {
            let (_, policies) = store::interpretation_links(&mut h.conn(), i.id).await.unwrap();
            assert_eq!(policies.len(), 1, "{name}: {} explains one document", i.title);
            let policy = all.iter().find(|p| p.id == policies[0]).unwrap();
            assert!(policy.needs_interpretation && policy.class_code == "policy", "{name}: {}", policy.title);
            assert!(i.title.contains('《'), "{name}: {}", i.title);
        }
        let missing = store::policies_missing_interpretation(&mut h.conn()).await.unwrap();
        assert_eq!(missing.len(), 1, "{name}: the report has one document to chase");

        // Three normative documents repealed by their revision, each a reviewed second version.
        let repealed: Vec<&store::Item> = all.iter().filter(|i| i.validity == "repealed").collect();
        assert_eq!(repealed.len(), 3, "{name}");
        for r in repealed {
            let by = all.iter().find(|i| Some(i.id) == r.replaced_by_item_id).expect("replacement");
            assert!(r.is_normative && by.is_normative && by.live && r.live, "{name}: {}", r.title);
            assert_eq!((r.version, r.live_version), (2, Some(2)), "{name}: {}", r.title);
            assert!(by.written_on <= r.validity_on && r.validity_on.is_some(), "{name}");
        }
        let doc_nos: Vec<&str> = all.iter().map(|i| i.doc_no.as_str()).filter(|d| !d.is_empty()).collect();
        assert!(doc_nos.len() >= 40, "{name}");
        assert_eq!(doc_nos.iter().collect::<HashSet<_>>().len(), doc_nos.len(), "{name}: 文号 unique");
        assert!(all.iter().filter(|i| i.is_normative).count() >= 8, "{name}");

        // Nothing personal in any text (the pre-publish checks find nothing).
        let checks = gongkai_cms::privacy::default_checks();
        for i in &all {
            let fields = [
                ("title", i.title.as_str()),
                ("subtitle", i.subtitle.as_str()),
                ("summary", i.summary.as_str()),
                ("body", i.body_text.as_str()),
            ];
            let found = gongkai_cms::privacy::scan_all(&checks, &fields, gongkai_kernel::clock::today());
            assert!(found.is_empty(), "{name}: {}: {found:?}", i.title);
        }

        // Columns of every class on each site, with items in them.
        for site in ["www", "jyj", "yshj"] {
            let s = gongkai_kernel::site::store::all(&mut h.conn())
                .await
                .unwrap()
                .into_iter()
                .find(|s| s.code == site)
                .unwrap();
            let cols = store::columns_of_site(&mut h.conn(), s.id).await.unwrap();
            for class in ["news", "notice", "policy", "overview", "interaction"] {
                assert!(cols.iter().any(|c| c.class == class), "{name}: {site} has a {class} column");
            }
            assert!(cols.iter().any(|c| c.review_levels == 2), "{name}: {site} has a two-level column");
            let homes: HashSet<i64> = all.iter().map(|i| i.home_column_id).collect();
            assert!(
                cols.iter()
                    .filter(|c| c.kind != "link" && c.parent_id.is_some() || c.kind == "page")
                    .all(|c| homes.contains(&c.id))
            );
        }
        drop(h);

        assert!(count(&t, "SELECT COUNT(*) FROM topics").await >= 2, "{name}");
        assert!(count(&t, "SELECT COUNT(*) FROM topic_items").await >= 10, "{name}");
        assert!(count(&t, "SELECT COUNT(*) FROM catalogue_entries").await >= 20, "{name}");
        assert!(count(&t, "SELECT COUNT(*) FROM item_catalogue").await >= 20, "{name}");
        assert!(matches!(
            gongkai_kernel::audit::verify(&t.db).await.unwrap(),
            gongkai_kernel::audit::Verdict::Intact { .. }
        ));
    }
}
