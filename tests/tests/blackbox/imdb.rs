//! `viewing-server catalog import-imdb DIR` (SPEC §16) through the binary, on SQLite and on
//! PostgreSQL: IMDb's gzip files load into a catalog the server then serves, a second load
//! updates in place, and a truncated file or a missing column stops the load with the file's
//! name.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use flate2::Compression;
use flate2::write::GzEncoder;
use uuid::Uuid;
use viewing_tests::postgres::{Database, admin_url};
use viewing_tests::{Options, Server, server_bin};

const BASICS: &str = "\
tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres
tt0133093\tmovie\tThe Matrix\tThe Matrix\t0\t1999\t\\N\t136\tAction,Sci-Fi
tt5753856\ttvSeries\tDark\tDark\t0\t2017\t2020\t\\N\tDrama,Mystery
tt5753858\ttvEpisode\tSecrets\tSecrets\t0\t2017\t\\N\t\\N\t\\N
tt5753860\ttvEpisode\tLies\tLies\t0\t2017\t\\N\t52\t\\N
tt5753862\ttvEpisode\tPast and Present\tPast and Present\t0\t2017\t\\N\t58\t\\N
tt9999999\tvideoGame\tA Game\tA Game\t0\t2020\t\\N\t\\N\t\\N
";

const EPISODES: &str = "\
tconst\tparentTconst\tseasonNumber\tepisodeNumber
tt5753858\ttt5753856\t1\t1
tt5753860\ttt5753856\t1\t2
tt5753862\ttt5753856\t1\t3
";

/// The id the loader gives the item IMDb calls `name` (SPEC §16: UUID v5, in the project's
/// namespace, of `imdb:<tconst>`, or `imdb:<tconst>:season:<n>`).
fn derived(name: &str) -> Uuid {
    let namespace = Uuid::from_u128(0x6f1d_2b0e_54c7_4a5e_9c3b_1f7e_8d2a_4c61);
    Uuid::new_v5(&namespace, format!("imdb:{name}").as_bytes())
}

fn gzip(path: &Path, text: &str) {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(text.as_bytes())
        .unwrap_or_else(|err| panic!("{err}"));
    let bytes = e.finish().unwrap_or_else(|err| panic!("{err}"));
    std::fs::write(path, bytes).unwrap_or_else(|err| panic!("{err}"));
}

fn import(dir: &Path, url: &str) -> Output {
    Command::new(server_bin!())
        .args(["catalog", "import-imdb", &dir.display().to_string()])
        .env("DATABASE_URL", url)
        .env_remove("VIEWING_JWT_SECRET")
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"))
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

async fn load_and_serve(url: String) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    gzip(&dir.path().join("title.basics.tsv.gz"), BASICS);
    gzip(&dir.path().join("title.episode.tsv.gz"), EPISODES);

    let out = import(dir.path(), &url);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for line in [
        "written            1 movies",
        "written            1 shows",
        "written            1 seasons",
        "written            3 episodes",
        "skipped            1 other title types",
    ] {
        assert!(stdout.contains(line), "{line:?} in {stdout}");
    }
    // Again: the same rows, updated in place.
    let again = import(dir.path(), &url);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains("written            3 episodes"));

    // A truncated file stops the load and names the file; so does a missing column.
    let broken = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let long: String = std::iter::once(BASICS.lines().next().unwrap_or_default().to_owned())
        .chain((0..20_000).map(|i| {
            format!(
                "tt{:07}\tmovie\tFilm {i}\tFilm {i}\t0\t1999\t\\N\t90\tDrama",
                1_000_000 + i
            )
        }))
        .collect::<Vec<_>>()
        .join("\n");
    gzip(&broken.path().join("title.basics.tsv.gz"), &long);
    gzip(&broken.path().join("title.episode.tsv.gz"), EPISODES);
    let path = broken.path().join("title.basics.tsv.gz");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap_or_else(|e| panic!("{e}"));
    let out = import(broken.path(), &url);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("title.basics.tsv.gz line") && err.contains("truncated or corrupt"),
        "{err}"
    );
    gzip(
        &broken.path().join("title.basics.tsv.gz"),
        &BASICS.replacen("primaryTitle", "name", 1),
    );
    let out = import(broken.path(), &url);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("title.basics.tsv.gz: missing column primaryTitle"),
        "{}",
        text(&out.stderr)
    );

    let server = Server::start_with(
        &server_bin!(),
        Options {
            database_url: Some(url),
            ..Options::default()
        },
    );
    let user = server.client(Uuid::new_v4());
    let m = user
        .get(&format!("/api/catalog/movies/{}", derived("tt0133093")))
        .await;
    m.assert_status(200);
    assert_eq!(m.body["title"], "The Matrix");
    assert_eq!(m.body["externalIds"]["imdb"], "tt0133093");
    let s = user
        .get(&format!("/api/catalog/shows/{}", derived("tt5753856")))
        .await;
    s.assert_status(200);
    assert_eq!(s.body["status"], "ended");
    assert_eq!(
        s.body["seasons"][0]["seasonId"],
        derived("tt5753856:season:1").to_string()
    );
    let episodes = &s.body["seasons"][0]["episodes"];
    assert_eq!(episodes[0]["runtimeMinutes"], 58, "the median of 52 and 58");
    assert_eq!(episodes[1]["externalIds"]["imdb"], "tt5753860");
    // Viewing works on loaded content.
    let watched = user
        .watch_episode(derived("tt5753858"), &serde_json::json!({}))
        .await;
    watched.assert_status(201);
}

#[tokio::test]
async fn imdb_datasets_load_on_sqlite() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    load_and_serve(format!("sqlite://{}", dir.path().join("imdb.db").display())).await;
}

#[tokio::test]
async fn imdb_datasets_load_on_postgresql() {
    let Some(admin) = admin_url() else { return };
    let db = Database::create(&admin).await;
    load_and_serve(db.url.clone()).await;
}
