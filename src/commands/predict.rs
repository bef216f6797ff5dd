//! `anmin predict`: a saved model applied to new rows, with the model's own preprocessing.

use std::io::Write;

use crate::cli::{Clip, PredictArgs};
use crate::data::{Source, Table};
use crate::error::{Error, Result};
use crate::model::SavedModel;
use crate::outputs;
use crate::predict::{Predictions, predict_table};

/// The predictions as CSV: a header `predicted_<target>` per target, one row per input row; a
/// classifier's: `predicted_<target>` (the class), then `p_<class>` per class.
pub fn to_csv(p: &Predictions) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if let Some(c) = &p.classes {
        let mut header = vec![format!("predicted_{}", p.targets[0])];
        header.extend(c.labels.iter().map(|l| format!("p_{l}")));
        writer.write_record(&header).expect("in-memory write");
        for (i, &k) in c.predicted.iter().enumerate() {
            let mut record = vec![c.labels[k].clone()];
            record.extend(c.probabilities.row(i).iter().map(|v| v.to_string()));
            writer.write_record(&record).expect("in-memory write");
        }
    } else {
        let header: Vec<String> = p.targets.iter().map(|t| format!("predicted_{t}")).collect();
        writer.write_record(&header).expect("in-memory write");
        for row in p.values.row_iter() {
            writer
                .write_record(row.iter().map(|v| v.to_string()))
                .expect("in-memory write");
        }
    }
    String::from_utf8(writer.into_inner().expect("in-memory flush")).expect("CSV is UTF-8")
}

/// `model` with the clipping `--clip` asks for, if any. Models saved before anmin 0.2 have
/// no training ranges to clip to.
fn with_clip(
    mut model: SavedModel,
    clip: Option<Clip>,
    path: &std::path::Path,
) -> Result<SavedModel> {
    if let Some(clip) = clip {
        if clip.margin().is_some() && model.standardizer.range.is_empty() {
            return Err(Error::usage(format!(
                "{}: the model holds no training ranges (saved by an older anmin); --clip {clip} needs them",
                path.display()
            )));
        }
        model.standardizer.clip_margin = clip.margin();
    }
    Ok(model)
}

/// `anmin predict`.
pub fn run(args: &PredictArgs) -> Result<()> {
    let model = with_clip(SavedModel::load(&args.model)?, args.clip, &args.model)?;
    let table = Table::read_keeping_text(
        &Source::from_arg(args.data.clone()),
        args.delimiter,
        &model.encoding.text_columns(),
    )?;
    let predictions = predict_table(&model, &table)?;
    for note in &predictions.notes {
        eprintln!("warning: {note}");
    }
    let csv = to_csv(&predictions);
    let mut summary = String::new();
    if let Some(m) = predictions.classes.as_ref().and_then(|c| c.metrics) {
        let shown = |v: Option<f64>| v.map_or_else(|| "undefined".into(), |v| format!("{v:.6}"));
        summary += &format!(
            "{} rows with classes {}: accuracy {}, log loss {}\n",
            table.n_rows(),
            predictions.targets.join(", "),
            shown(m.accuracy),
            shown(m.log_loss)
        );
    } else if let Some(m) = &predictions.metrics {
        let r2 =
            m.r2.map_or_else(|| "undefined".into(), |v| format!("{v:.6}"));
        let mse = m
            .mse
            .map_or_else(|| "undefined".into(), |v| format!("{v:.6}"));
        summary += &format!(
            "{} rows with targets {}: MSE {mse}, R2 {r2}\n",
            table.n_rows(),
            predictions.targets.join(", ")
        );
    }
    if let Some(margin) = model.standardizer.clip_margin {
        let to = if margin == 0.0 {
            "the training range".to_owned()
        } else {
            format!("the training range widened by {margin} of its width")
        };
        summary += &format!(
            "clipped {} of {} rows: an input outside {to} (--clip none turns clipping off)\n",
            predictions.clipped_rows,
            table.n_rows()
        );
    }
    let summary = (!summary.is_empty()).then_some(summary);
    match &args.out {
        Some(path) => {
            outputs::write_atomic(path, csv.as_bytes())?;
            if let Some(s) = summary {
                let _ = std::io::stdout().write_all(s.as_bytes());
            }
        }
        None => {
            // Predictions own stdout; the metrics line goes to stderr.
            let _ = std::io::stdout().write_all(csv.as_bytes());
            if let Some(s) = summary {
                eprint!("{s}");
            }
        }
    }
    Ok(())
}
