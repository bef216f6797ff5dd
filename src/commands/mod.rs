//! The subcommands, as library functions so that tests and benchmarks drive the same code.

pub mod compare;
pub mod completions;
pub mod denoise;
pub mod gen_data;
pub mod interrupt;
pub mod man;
pub mod optimizer_flags;
pub mod predict;
pub mod render;
pub mod summarize;
pub mod train;

use crate::cli::{Cli, Command, DataArgs, GenCommand};
use crate::data::{ColumnChoice, DEFAULT_DATASET, Dataset, NoteKind, Source, Table, Task};
use crate::error::Result;
use crate::outputs::{self, Output};

/// Runs the command line `argv` (argv[0] is the program name) as the `anmin` binary does:
/// parse, run, print any error; the exit code. The Python package's console script.
pub fn run_cli(argv: Vec<String>) -> i32 {
    use clap::Parser;
    match Cli::try_parse_from(argv) {
        Err(e) => {
            // --help and --version are "errors" that print to stdout and exit 0.
            let _ = e.print();
            e.exit_code()
        }
        Ok(cli) => match run(cli) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {e}");
                i32::from(e.exit_code())
            }
        },
    }
}

/// Runs one parsed command line. Its output files are checked first, so that a path that
/// cannot be written fails before any data is read or trained on.
pub fn run(cli: Cli) -> Result<()> {
    let written = outputs_of(&cli.command);
    outputs::check_against_inputs(&written, &inputs_of(&cli.command))?;
    outputs::check(&written)?;
    match cli.command {
        Command::Train(args) => train::run(&args),
        Command::Predict(args) => predict::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Summarize(args) => summarize::run(&args),
        Command::Gen(args) => gen_data::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Denoise(args) => denoise::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
    }
}

/// Every file `command` will write.
pub fn outputs_of(command: &Command) -> Vec<Output> {
    let optional =
        |flag, path: &Option<std::path::PathBuf>| path.as_deref().map(|p| Output::replace(flag, p));
    match command {
        Command::Train(args) => [
            optional("--out", &args.out),
            optional("--save-model", &args.save_model),
            optional("--save-initial-model", &args.save_initial_model),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Command::Compare(args) => [
            optional("--out", &args.out),
            args.out
                .as_deref()
                .map(|out| Output::append("the runs file of --out", &compare::runs_file(out))),
            optional("--plot", &args.plot),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Command::Summarize(args) => [optional("--out", &args.out), optional("--plot", &args.plot)]
            .into_iter()
            .flatten()
            .collect(),
        Command::Predict(args) => optional("--out", &args.out).into_iter().collect(),
        Command::Gen(args) => match &args.data {
            GenCommand::Sdf(args) => vec![Output::replace("--out", &args.out)],
            GenCommand::Dae(args) => vec![Output::replace("--out", &args.out)],
            GenCommand::Teacher(args) => vec![Output::replace("--out", &args.out)],
        },
        Command::Render(args) => vec![Output::replace("--out", &args.out)],
        Command::Denoise(args) => vec![Output::replace("--out", &args.out)],
        Command::Man(args) => args
            .dir
            .as_deref()
            .map(|dir| Output::replace("--dir", &dir.join(man::MAIN_PAGE)))
            .into_iter()
            .collect(),
        Command::Completions(_) => Vec::new(),
    }
}

/// Every file `command` reads, with the flag that names it (standard input, `-`, aside).
pub fn inputs_of(command: &Command) -> Vec<(&'static str, std::path::PathBuf)> {
    let data = |args: &DataArgs| {
        args.data
            .as_ref()
            .filter(|p| p.as_os_str() != "-")
            .map(|p| ("--data", p.clone()))
    };
    match command {
        Command::Train(args) => data(&args.data).into_iter().collect(),
        Command::Compare(args) => data(&args.data).into_iter().collect(),
        Command::Predict(args) => vec![
            ("--model", args.model.clone()),
            ("--data", args.data.clone()),
        ],
        Command::Summarize(args) => args
            .runs
            .iter()
            .map(|p| ("a run file", p.clone()))
            .collect(),
        Command::Render(args) => std::iter::once(("--model", args.model.clone()))
            .chain(args.truth.clone().map(|p| ("--truth", p)))
            .collect(),
        Command::Denoise(args) => vec![("--model", args.model.clone())],
        Command::Gen(_) | Command::Man(_) | Command::Completions(_) => Vec::new(),
    }
}

/// The table named by `--data`, or the embedded default.
pub fn source_of(data: &DataArgs) -> Source {
    match &data.data {
        Some(path) => Source::from_arg(path.clone()),
        None => DEFAULT_DATASET,
    }
}

/// Reads and encodes the dataset the data flags describe; what encoding noticed (text read
/// as missing, rows dropped for a missing target) is printed on stderr.
pub fn load_dataset(data: &DataArgs) -> Result<Dataset> {
    let table = Table::read(&source_of(data), data.delimiter)?;
    let dataset = Dataset::from_table(&table, &column_choice(data))?;
    if let (Some(classes), Task::Auto) = (&dataset.encoding.classes, data.task) {
        eprintln!(
            "note: target column {:?} holds text: classifying its {} classes (--task regress \
             refuses text targets, --task classify also reads numbers as labels)",
            dataset.encoding.targets[0],
            classes.len()
        );
    }
    for note in &dataset.notes {
        let label = match note.kind {
            NoteKind::MissingTarget => "note",
            _ => "warning",
        };
        eprintln!("{label}: {note}");
    }
    Ok(dataset)
}

/// The columns the data flags choose.
pub fn column_choice(data: &DataArgs) -> ColumnChoice {
    ColumnChoice {
        targets: data.target.clone(),
        target_prefix: data.target_prefix.clone(),
        features: data.features.clone(),
        drop: data.drop.clone(),
        drop_missing: data.drop_missing,
        numeric: data.numeric.clone(),
        max_one_hot: data.max_one_hot,
        task: data.task,
    }
}
