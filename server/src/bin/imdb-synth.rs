//! Writes a synthetic dataset in IMDb's format (`title.basics.tsv.gz`, `title.episode.tsv.gz`,
//! `title.ratings.tsv.gz`) for measuring `viewing-server catalog import-imdb`: the sizes of
//! the real one by default (about 11 million title rows, 8.5 million episodes), made up titles,
//! every row shape the loader meets (`\N`s, adult titles, other title types, episodes without
//! numbers or runtime). Deterministic for a given `--seed`.
//!
//!   imdb-synth DIR [--movies N] [--shows N] [--episodes-per-show N] [--others N] [--seed N]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Parser;
use flate2::Compression;
use flate2::write::GzEncoder;

#[derive(Parser)]
#[command(about = "Write a synthetic IMDb dataset for the load benchmark")]
struct Args {
    /// Where to write the three files (created if missing).
    dir: PathBuf,
    /// Movies (`movie` and `tvMovie`).
    #[arg(long, default_value_t = 700_000)]
    movies: u32,
    /// Shows (`tvSeries` and `tvMiniSeries`).
    #[arg(long, default_value_t = 230_000)]
    shows: u32,
    /// Mean episodes per show (each show gets 1 to twice this).
    #[arg(long, default_value_t = 37)]
    episodes_per_show: u32,
    /// Titles of other types, which the loader skips (`short`, `video`, `videoGame`).
    #[arg(long, default_value_t = 1_500_000)]
    others: u32,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// A small xorshift generator: deterministic and fast; nothing here needs more.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const GENRES: [&str; 12] = [
    "Drama",
    "Comedy",
    "Crime",
    "Sci-Fi",
    "Thriller",
    "Romance",
    "Documentary",
    "Animation",
    "Horror",
    "Family",
    "Adventure",
    "Mystery",
];

fn gz(path: PathBuf) -> std::io::Result<GzEncoder<BufWriter<File>>> {
    Ok(GzEncoder::new(
        BufWriter::with_capacity(1 << 20, File::create(path)?),
        Compression::fast(),
    ))
}

fn genres(rng: &mut Rng) -> String {
    let n = rng.below(4);
    if n == 0 {
        return "\\N".to_owned();
    }
    (0..n)
        .map(|_| GENRES[rng.below(GENRES.len() as u64) as usize])
        .collect::<Vec<_>>()
        .join(",")
}

fn year(rng: &mut Rng) -> String {
    if rng.chance(3) {
        "\\N".to_owned()
    } else {
        (1920 + rng.below(110)).to_string()
    }
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.dir)?;
    let mut rng = Rng(args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut basics = gz(args.dir.join("title.basics.tsv.gz"))?;
    let mut episodes = gz(args.dir.join("title.episode.tsv.gz"))?;
    let mut ratings = gz(args.dir.join("title.ratings.tsv.gz"))?;
    writeln!(
        basics,
        "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres"
    )?;
    writeln!(
        episodes,
        "tconst\tparentTconst\tseasonNumber\tepisodeNumber"
    )?;
    writeln!(ratings, "tconst\taverageRating\tnumVotes")?;

    let mut tconst: u32 = 0;
    let mut next = || {
        tconst += 1;
        format!("tt{tconst:07}")
    };
    let (mut movies, mut shows, mut others) = (0u32, 0u32, 0u32);
    let (mut episode_rows, mut title_rows) = (0u64, 0u64);
    while movies < args.movies || shows < args.shows || others < args.others {
        // Interleave the kinds in proportion to what is left of each.
        let left = [
            u64::from(args.movies - movies),
            u64::from(args.shows - shows),
            u64::from(args.others - others),
        ];
        let mut pick = rng.below(left.iter().sum());
        let kind = left
            .iter()
            .position(|&l| {
                if pick < l {
                    true
                } else {
                    pick -= l;
                    false
                }
            })
            .unwrap_or(2);
        let id = next();
        let adult = u8::from(rng.chance(2));
        match kind {
            0 => {
                movies += 1;
                let kind = if rng.chance(15) { "tvMovie" } else { "movie" };
                let runtime = if rng.chance(10) {
                    "\\N".to_owned()
                } else {
                    (60 + rng.below(120)).to_string()
                };
                let y = year(&mut rng);
                let g = genres(&mut rng);
                writeln!(
                    basics,
                    "{id}\t{kind}\tMovie {movies}\tMovie {movies}\t{adult}\t{y}\t\\N\t{runtime}\t{g}"
                )?;
                writeln!(
                    ratings,
                    "{id}\t{}.{}\t{}",
                    1 + rng.below(9),
                    rng.below(10),
                    rng.below(5000)
                )?;
            }
            1 => {
                shows += 1;
                let kind = if rng.chance(20) {
                    "tvMiniSeries"
                } else {
                    "tvSeries"
                };
                let start = 1950 + rng.below(76);
                let end = if rng.chance(60) {
                    (start + rng.below(10)).to_string()
                } else {
                    "\\N".to_owned()
                };
                let g = genres(&mut rng);
                writeln!(
                    basics,
                    "{id}\t{kind}\tShow {shows}\tShow {shows}\t{adult}\t{start}\t{end}\t\\N\t{g}"
                )?;
                writeln!(
                    ratings,
                    "{id}\t{}.{}\t{}",
                    1 + rng.below(9),
                    rng.below(10),
                    rng.below(5000)
                )?;
                let count = 1 + rng.below(2 * u64::from(args.episodes_per_show));
                let per_season = 1 + rng.below(24);
                let base_runtime = 20 + rng.below(50);
                for k in 0..count {
                    let ep = next();
                    let (season, number) = if rng.chance(1) {
                        ("\\N".to_owned(), "\\N".to_owned())
                    } else if rng.chance(2) {
                        ("0".to_owned(), (1 + k % per_season).to_string())
                    } else {
                        (
                            (1 + k / per_season).to_string(),
                            (1 + k % per_season).to_string(),
                        )
                    };
                    let runtime = if rng.chance(60) {
                        "\\N".to_owned()
                    } else {
                        (base_runtime + rng.below(10)).to_string()
                    };
                    let title = if rng.chance(50) {
                        format!("Episode #{season}.{number}")
                    } else {
                        format!("Chapter {}", k + 1)
                    };
                    writeln!(
                        basics,
                        "{ep}\ttvEpisode\t{title}\t{title}\t0\t{}\t\\N\t{runtime}\t\\N",
                        start + k / per_season
                    )?;
                    writeln!(episodes, "{ep}\t{id}\t{season}\t{number}")?;
                    episode_rows += 1;
                    title_rows += 1;
                }
            }
            _ => {
                others += 1;
                let kind = ["short", "video", "videoGame", "tvSpecial"][rng.below(4) as usize];
                let y = year(&mut rng);
                writeln!(
                    basics,
                    "{id}\t{kind}\tOther {others}\tOther {others}\t{adult}\t{y}\t\\N\t\\N\t\\N"
                )?;
            }
        }
        title_rows += 1;
    }
    basics.finish()?.flush()?;
    episodes.finish()?.flush()?;
    ratings.finish()?.flush()?;
    println!(
        "wrote {title_rows} title.basics rows ({movies} movies, {shows} shows, {episode_rows} episodes, {others} others) to {}",
        args.dir.display()
    );
    Ok(())
}
