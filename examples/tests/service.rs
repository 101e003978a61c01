//! The notes service against the real PostgreSQL at `MIGRATE_TEST_PG_URL`, written with migrate's test
//! helpers: each test gets a fresh database, dropped at the end.

// A test binary: helpers panic with context instead of returning errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migrate::testing::{check_round_trip, TestDatabase};
use migrate::Migrator;
use migrate_examples::{serve, Note, Notes, MIGRATIONS};
use sqlx::postgres::{PgPool, PgPoolOptions};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

fn server() -> String {
    #[allow(clippy::disallowed_methods)] // Tests read their server from the environment.
    std::env::var("MIGRATE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".to_owned())
}

async fn empty_database() -> TestDatabase {
    TestDatabase::create_empty(&server())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {} (run scripts/servers.sh up): {e}", server()))
}

async fn pool(db: &TestDatabase) -> PgPool {
    PgPoolOptions::new().max_connections(3).connect_with(db.connect_options().clone()).await.unwrap()
}

#[tokio::test]
async fn the_service_migrates_its_database_at_start_up() {
    let db = empty_database().await;
    let (notes, report) = Notes::start(pool(&db).await).await.unwrap();
    let applied: Vec<&str> = report.results.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(applied, ["00001_create_notes.sql", "00002_index_notes_by_time.sql"]);

    let first = notes.add("buy milk").await.unwrap();
    let second = notes.add("call Ada").await.unwrap();
    let list = notes.list().await.unwrap();
    assert_eq!(list, [Note { id: first, body: "buy milk".into() }, Note { id: second, body: "call Ada".into() }]);

    // A second instance (a restart, or another replica) finds nothing to do and keeps the data.
    let (again, report) = Notes::start(pool(&db).await).await.unwrap();
    assert!(report.results.is_empty());
    assert_eq!(report.version_before, 2);
    assert_eq!(again.list().await.unwrap().len(), 2);
    db.drop_database().await.unwrap();
}

#[tokio::test]
async fn the_service_answers_on_tcp() {
    // A database the helpers already migrated: the service's own start-up migration is then a no-op.
    let db = TestDatabase::create(&server(), &Migrator::new(MIGRATIONS)).await.unwrap();
    let (notes, report) = Notes::start(pool(&db).await).await.unwrap();
    assert!(report.results.is_empty());

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener, notes));
    let stream = TcpStream::connect(addr).await.unwrap();
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    writer.write_all(b"add hello\nadd world\nlist\nbogus\n").await.unwrap();
    let mut replies = Vec::new();
    for _ in 0..6 {
        replies.push(lines.next_line().await.unwrap().unwrap());
    }
    assert_eq!(replies[..2], ["1", "2"]);
    assert_eq!(replies[2..5], ["1 hello", "2 world", "."]);
    assert!(replies[5].starts_with("error:"), "{}", replies[5]);
    server.abort();
    db.drop_database().await.unwrap();
}

#[tokio::test]
async fn every_down_undoes_its_up() {
    if let Err(error) = check_round_trip(&server(), &Migrator::new(MIGRATIONS)).await {
        panic!("{error}");
    }
}
