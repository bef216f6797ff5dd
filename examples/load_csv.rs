//! Loads a CSV file as `anmin train --data FILE` does (read, choose columns, check and encode)
//! and prints the time it took, for measuring the loader alone:
//!
//! ```sh
//! cargo build --release --example load_csv
//! /usr/bin/time -v target/release/examples/load_csv data.csv
//! ```

use std::time::Instant;

use anmin::data::{ColumnChoice, Dataset, Source, Table};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os()
        .nth(1)
        .ok_or("usage: load_csv FILE (- for standard input)")?;
    let started = Instant::now();
    let table = Table::read(&Source::from_arg(path.into()), None)?;
    let read = started.elapsed().as_secs_f64();
    let dataset = Dataset::from_table(&table, &ColumnChoice::default())?;
    drop(table);
    let total = started.elapsed().as_secs_f64();
    println!(
        "{}: {} rows x {} features; read {read:.2} s, encoded {:.2} s, total {total:.2} s",
        dataset.source,
        dataset.n_rows(),
        dataset.encoding.n_features(),
        total - read
    );
    Ok(())
}
